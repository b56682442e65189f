/**
 * A pool's `mining.notify`, checked field by field and turned into the orchestrator's Job (the
 * mine --pool side of docs/stratum.md): the byte orders undone exactly as the pool side does
 * them (protocol.ts), and anything malformed refused with the field named — a bad job must
 * never become a wrong share.
 * @module
 */
import { difficultyToTarget, bitsToTarget, targetToBytes } from '../bitcoin/target.js';
import { poolRolling } from '../bitcoin/version-rolling.js';
import type { Job } from '../work/job.js';
import { parseHex32, swapWords } from './protocol.js';

/** More levels than any block can have (2^32 transactions). */
export const MAX_BRANCH = 32;
/** A coinbase half longer than this is not a coinbase (a block is at most 4 MB, a coinbase far less). */
const MAX_COINBASE_HEX = 2 * 100_000;

/** A notify that cannot be mined: the pool sent something wrong. */
export class PoolJobError extends Error {
  override readonly name = 'PoolJobError';
}

export interface PoolSession {
  readonly extranonce1: Uint8Array;
  readonly extranonce2Size: number;
  /** The difficulty set before this notify (it applies to jobs after it). */
  readonly difficulty: number;
  /** The BIP310 version-rolling mask granted to this session (0: none). */
  readonly versionMask: number;
}

function hex(value: unknown, field: string, digits?: number): Buffer {
  if (typeof value !== 'string' || value.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(value) || (digits !== undefined && value.length !== digits)) {
    throw new PoolJobError(`mining.notify ${field}: expected ${digits === undefined ? 'hex' : `${digits} hex digits`}`);
  }
  return Buffer.from(value, 'hex');
}

function u32(value: unknown, field: string): number {
  const n = parseHex32(value);
  if (n === undefined) throw new PoolJobError(`mining.notify ${field}: expected 8 hex digits`);
  return n;
}

/** The BIP34 height at the start of the coinbase's scriptSig, when it is there (for the log). */
function heightOf(coinb1: Buffer): number {
  // version 4, input count 1, prevout 36, script length (1 byte for any coinbase), push opcode.
  const push = coinb1[42];
  if (push === undefined || push < 1 || push > 8 || coinb1.length < 43 + push) return 0;
  let h = 0;
  for (let i = push - 1; i >= 0; i--) h = h * 256 + coinb1[43 + i]!;
  return h;
}

/** `mining.notify` params → a Job of this session, or PoolJobError naming the bad field. */
export function poolJob(params: readonly unknown[], session: PoolSession, id: string): { job: Job; clean: boolean } {
  const [jobId, prevhash, coinb1Hex, coinb2Hex, branch, version, nbits, ntime, clean] = params;
  if (typeof jobId !== 'string' || jobId === '' || jobId.length > 128) throw new PoolJobError('mining.notify job_id: expected a string of 1..128 characters');
  const prevSwapped = hex(prevhash, 'prevhash', 64);
  if (typeof coinb1Hex !== 'string' || coinb1Hex.length > MAX_COINBASE_HEX) throw new PoolJobError('mining.notify coinb1: expected hex of a coinbase');
  if (typeof coinb2Hex !== 'string' || coinb2Hex.length > MAX_COINBASE_HEX) throw new PoolJobError('mining.notify coinb2: expected hex of a coinbase');
  const coinb1 = hex(coinb1Hex, 'coinb1');
  const coinb2 = hex(coinb2Hex, 'coinb2');
  if (!Array.isArray(branch)) throw new PoolJobError('mining.notify merkle_branch: expected a list');
  if (branch.length > MAX_BRANCH) throw new PoolJobError(`mining.notify merkle_branch: ${branch.length} hashes, more than any block has (${MAX_BRANCH})`);
  const merkleBranch = branch.map((h, i) => Uint8Array.from(hex(h, `merkle_branch[${i}]`, 64)));
  const v = u32(version, 'version');
  const bits = u32(nbits, 'nbits');
  const time = u32(ntime, 'ntime');
  if (typeof clean !== 'boolean') throw new PoolJobError('mining.notify clean_jobs: expected true or false');
  let target: bigint;
  try {
    target = bitsToTarget(bits);
  } catch {
    throw new PoolJobError(`mining.notify nbits: ${nbits as string} is not a valid compact target`);
  }
  // Undo the word swap: the header's 32 bytes in internal order.
  const prevHash = swapWords(prevSwapped);
  const extranonceSize = session.extranonce1.length + session.extranonce2Size;
  const job: Job = {
    id,
    height: heightOf(coinb1),
    previousBlockHash: Buffer.from(prevHash).reverse().toString('hex'),
    prevHash: Uint8Array.from(prevHash),
    version: v,
    bits,
    target,
    targetBytes: targetToBytes(target),
    curtime: time,
    mintime: time,
    coinbase: { coinb1: Uint8Array.from(coinb1), coinb2: Uint8Array.from(coinb2), extranonceSize, scriptSigSize: 0, hasWitnessCommitment: false },
    payoutScript: new Uint8Array(0),
    coinbaseTag: undefined,
    witnessCommitment: undefined,
    coinbaseValue: 0,
    merkleBranch,
    txCount: 0,
    transactionsHex: '',
    cleanJobs: clean,
    longpollId: undefined,
    rolling: poolRolling(session.versionMask),
    createdAt: Date.now(),
    pool: {
      jobId,
      extranonce1: session.extranonce1,
      difficulty: session.difficulty,
      shareTarget: difficultyToTarget(session.difficulty),
      versionMask: session.versionMask >>> 0,
    },
  };
  return { job, clean };
}
