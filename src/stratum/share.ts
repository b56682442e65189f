/**
 * Checking a `mining.submit`: the header a miner hashed is rebuilt from the job it was sent and
 * the fields it returns (extranonce2, ntime, nonce, BIP310 version bits), hashed here with an
 * independent SHA-256d, and its difficulty computed. Pure functions; which job, whether it is
 * stale or a duplicate and what difficulty it owes are the connection's business.
 *
 * Written for speed (docs/stratum.md: ≥ 50,000 shares/s on one core): per job the coinbase
 * halves, branch and header prefix are prepared once; per share there is one coinbase buffer, a
 * fixed 64-byte scratch for the merkle fold and a fixed 80-byte header, and no bigint unless the
 * share is close to the block target.
 * @module
 */
import { createHash } from 'node:crypto';

import { DIFF1_TARGET } from '../bitcoin/target.js';
import type { Job } from '../work/job.js';
import { parseHex32, StratumErrorCode } from './protocol.js';

/** Bitcoin Core accepts block times up to two hours ahead of its clock. */
const MAX_FUTURE_SECONDS = 2 * 60 * 60;
const DIFF1 = Number(DIFF1_TARGET);
const TWO_32 = 2 ** 32;

/** A job made ready for fast share checks. */
export interface PreparedJob {
  readonly job: Job;
  readonly coinb1: Buffer;
  readonly coinb2: Buffer;
  readonly branch: readonly Buffer[];
  /** Bytes 0..79 of the header with version, root, time and nonce still to fill in. */
  readonly header: Buffer;
  readonly extranonce2Size: number;
}

export function prepareJob(job: Job, extranonce1Size: number): PreparedJob {
  const header = Buffer.alloc(80);
  Buffer.from(job.prevHash).copy(header, 4);
  header.writeUInt32LE(job.bits >>> 0, 72);
  return {
    job,
    coinb1: Buffer.from(job.coinbase.coinb1),
    coinb2: Buffer.from(job.coinbase.coinb2),
    branch: job.merkleBranch.map((h) => Buffer.from(h)),
    header,
    extranonce2Size: job.coinbase.extranonceSize - extranonce1Size,
  };
}

export interface SubmittedFields {
  readonly extranonce2: unknown;
  readonly ntime: unknown;
  readonly nonce: unknown;
  /** BIP310 version bits (hex) when the miner rolls the version. */
  readonly versionBits?: unknown;
}

export interface CheckedShare {
  readonly ok: true;
  /** SHA-256d of the header, internal byte order. */
  readonly hash: Buffer;
  /** DIFF1_TARGET / hash (the pool convention); Infinity for a zero hash. */
  readonly difficulty: number;
  /** The hash is at or below the job's block target (exactly, in bigint). */
  readonly isBlock: boolean;
  readonly header: Buffer;
  /** The coinbase's non-witness serialization (coinb1 ‖ extranonce1 ‖ extranonce2 ‖ coinb2). */
  readonly coinbaseTx: Buffer;
  readonly extranonce: Buffer;
  readonly version: number;
  readonly ntime: number;
  readonly nonce: number;
}

export interface RejectedShare {
  readonly ok: false;
  readonly code: StratumErrorCode;
  readonly message: string;
}

const scratch = Buffer.alloc(64);

function sha256d(data: Buffer): Buffer {
  return createHash('sha256').update(createHash('sha256').update(data).digest()).digest();
}

/**
 * The difficulty of an internal-order hash from its three most significant 32-bit words after
 * the leading zero words (at least 64 significant bits, of which a double keeps 53: exact enough
 * to compare with a share target, without a bigint per share).
 */
export function difficultyOf(hash: Buffer): number {
  for (let w = 7; w >= 0; w--) {
    const hi = hash.readUInt32LE(w * 4);
    if (hi === 0) continue;
    const mid = w > 0 ? hash.readUInt32LE((w - 1) * 4) : 0;
    const lo = w > 1 ? hash.readUInt32LE((w - 2) * 4) : 0;
    const value = (hi * TWO_32 * TWO_32 + mid * TWO_32 + lo) * 2 ** (32 * (w - 2));
    return DIFF1 / value;
  }
  return Infinity;
}

function hashValue(hash: Buffer): bigint {
  return BigInt(`0x${Buffer.from(hash).reverse().toString('hex')}`);
}

function reject(code: StratumErrorCode, message: string): RejectedShare {
  return { ok: false, code, message };
}

/**
 * The share's header and hash, or why its fields cannot be right. `mask` is the connection's
 * negotiated BIP310 mask (0 without version rolling); `nowSeconds` bounds ntime.
 */
export function checkShare(prepared: PreparedJob, extranonce1: Buffer, fields: SubmittedFields, mask: number, nowSeconds: number): CheckedShare | RejectedShare {
  const { job } = prepared;
  const en2Digits = prepared.extranonce2Size * 2;
  if (typeof fields.extranonce2 !== 'string' || fields.extranonce2.length !== en2Digits || !/^[0-9a-fA-F]*$/.test(fields.extranonce2)) {
    return reject(StratumErrorCode.OTHER, `extranonce2: expected ${en2Digits} hex digits`);
  }
  const ntime = parseHex32(fields.ntime);
  if (ntime === undefined) return reject(StratumErrorCode.OTHER, 'ntime: expected 8 hex digits');
  if (ntime < job.mintime) return reject(StratumErrorCode.OTHER, `ntime: ${ntime} is before the template's mintime ${job.mintime}`);
  if (ntime > nowSeconds + MAX_FUTURE_SECONDS) return reject(StratumErrorCode.OTHER, `ntime: ${ntime} is more than 2 h ahead of the pool's clock`);
  const nonce = parseHex32(fields.nonce);
  if (nonce === undefined) return reject(StratumErrorCode.OTHER, 'nonce: expected 8 hex digits');
  let version = job.version >>> 0;
  if (fields.versionBits !== undefined && fields.versionBits !== null) {
    const bits = parseHex32(fields.versionBits);
    if (bits === undefined) return reject(StratumErrorCode.OTHER, 'version bits: expected 8 hex digits');
    if ((bits & ~mask) >>> 0 !== 0) {
      return reject(StratumErrorCode.OTHER, mask === 0 ? 'version bits: version rolling was not negotiated (mining.configure)' : `version bits: ${bits.toString(16)} outside the negotiated mask ${mask.toString(16)}`);
    }
    version = ((version & ~mask) | (bits & mask)) >>> 0;
  }

  const extranonce = Buffer.concat([extranonce1, Buffer.from(fields.extranonce2, 'hex')]);
  const coinbaseTx = Buffer.concat([prepared.coinb1, extranonce, prepared.coinb2]);
  let root = sha256d(coinbaseTx);
  for (const node of prepared.branch) {
    root.copy(scratch, 0);
    node.copy(scratch, 32);
    root = sha256d(scratch);
  }
  const header = Buffer.from(prepared.header);
  header.writeUInt32LE(version, 0);
  root.copy(header, 36);
  header.writeUInt32LE(ntime, 68);
  header.writeUInt32LE(nonce, 76);
  const hash = sha256d(header);
  const difficulty = difficultyOf(hash);
  // Exact only where it matters: a hash within 1 % of the block target's difficulty.
  const blockDifficulty = DIFF1 / Number(job.target);
  const isBlock = difficulty >= blockDifficulty * 0.99 && hashValue(hash) <= job.target;
  return { ok: true, hash, difficulty, isBlock, header, coinbaseTx, extranonce, version, ntime, nonce };
}
