// A job: everything needed to hash on one template, in the shape Stratum distributes work
// (coinbase part 1, extranonce, coinbase part 2, merkle branch, version, bits, time), so a
// later Stratum server can hand the same jobs out unchanged. Building a job costs one merkle
// branch; each new extranonce after that costs O(log n) hashes (docs/architecture.md, "Data flow").
import { bytesToHex, compactSize, hexToBytes, reverseBytes } from '../bitcoin/bytes.js';
import {
  buildCoinbase,
  coinbaseTx,
  coinbaseWithWitness,
  txid as txidOf,
  type CoinbaseParts,
} from '../bitcoin/coinbase.js';
import { sha256d } from '../bitcoin/hash.js';
import { serializeHeader, withNonce, withVersion } from '../bitcoin/header.js';
import { rootFromBranch } from '../bitcoin/merkle.js';
import { bitsFromHex, bitsToTarget, targetToBytes } from '../bitcoin/target.js';
import { rolledVersions, templateRolling, versionsInMask, type TemplateRolling } from '../bitcoin/version-rolling.js';
import { coinbaseMerkleBranch, witnessCommitmentOf } from './merkle-native.js';
import { TemplateError, type BlockTemplate } from '../node/block-template.js';

/** Bitcoin Core accepts block times up to two hours ahead of its clock (MAX_FUTURE_BLOCK_TIME). */
export const MAX_FUTURE_SECONDS = 2 * 60 * 60;

export interface JobOptions {
  readonly id: string;
  readonly payoutScript: Uint8Array;
  readonly coinbaseTag?: string;
  /** Bytes of extranonce space in the coinbase scriptSig. */
  readonly extranonceSize: number;
  /** Whether engines must drop earlier work at once (a new tip) or may finish it (refresh). */
  readonly cleanJobs: boolean;
  /** Version rolling in the engines (default on); off: every header keeps the template's version. */
  readonly versionRolling?: boolean;
}

/**
 * The version bits the engines may roll on a job (software AsicBoost) and, when none (or not
 * all of BIP320's), why: a line for the log.
 */
export type JobRolling = TemplateRolling;

/** Why the engines roll no version bits with --no-version-rolling. */
export const ROLLING_OFF_REASON = 'off (--no-version-rolling)';

export interface Job {
  readonly id: string;
  readonly height: number;
  /** Previous block hash, display hex (as the node shows it). */
  readonly previousBlockHash: string;
  /** Previous block hash, internal byte order, as in the header. */
  readonly prevHash: Uint8Array;
  readonly version: number;
  readonly bits: number;
  readonly target: bigint;
  /** The block target, 32 bytes big-endian, as engines take it. */
  readonly targetBytes: Uint8Array;
  readonly curtime: number;
  readonly mintime: number;
  readonly coinbase: CoinbaseParts;
  /** scriptPubKey the coinbase pays. */
  readonly payoutScript: Uint8Array;
  readonly coinbaseTag: string | undefined;
  /** BIP141 commitment the coinbase carries (absent without segwit). */
  readonly witnessCommitment: Uint8Array | undefined;
  readonly coinbaseValue: number;
  readonly merkleBranch: readonly Uint8Array[];
  /** Number of transactions in the block, coinbase included. */
  readonly txCount: number;
  /** The template's transactions in block order, raw hex, concatenated; coinbase excluded. */
  readonly transactionsHex: string;
  readonly cleanJobs: boolean;
  readonly longpollId: string | undefined;
  /** Which version bits the engines may roll (mask 0: none, each header keeps `version`). */
  readonly rolling: JobRolling;
  /** Milliseconds since the epoch when the job was built. */
  readonly createdAt: number;
  /**
   * Set for work from a Stratum pool (mine --pool): the pool's job id, the extranonce1 it gave
   * this connection, and the share target in force when the job arrived. Such a job has no
   * transactions of its own: its shares go to the pool, never a block to a node.
   */
  readonly pool?: PoolWork;
}

export interface PoolWork {
  readonly jobId: string;
  readonly extranonce1: Uint8Array;
  readonly difficulty: number;
  /** The share target of `difficulty`, big-endian bytes as engines take it. */
  readonly shareTarget: bigint;
  /**
   * The version bits the pool lets this job roll (BIP310's negotiated mask on Stratum V1; on
   * Stratum V2 1fffe000 unless the pool requires a fixed version or the job forbids rolling);
   * 0: the job's version as it is (no version rolling).
   */
  readonly versionMask: number;
}

/**
 * One engine's share of a job: a distinct coinbase (extranonce) and time, hashed with each of
 * `versions` (version rolling: the extranonce keeps units disjoint, the versions are a
 * dimension inside a unit).
 */
export interface WorkUnit {
  readonly job: Job;
  readonly extranonce: Uint8Array;
  readonly time: number;
  /** The header's version (the job's, or a Stratum worker's rolled one). */
  readonly version: number;
  /** The versions engines hash this unit with: `version` first, then rolled ones (job.rolling). */
  readonly versions: readonly number[];
  readonly coinbaseTx: Uint8Array;
  /** 80 bytes with nonce 0 and `version`. */
  readonly header: Uint8Array;
}

export interface AssembledBlock {
  readonly hash: string;
  readonly header: Uint8Array;
  readonly hex: string;
}

/** The 32-byte commitment carried in a `default_witness_commitment` script. */
function commitmentFromScript(scriptHex: string): Uint8Array {
  const script = hexToBytes(scriptHex, 'getblocktemplate/default_witness_commitment');
  if (script.length !== 38 || script[0] !== 0x6a || script[1] !== 0x24 || bytesToHex(script.subarray(2, 6)) !== 'aa21a9ed') {
    throw new TemplateError('getblocktemplate/default_witness_commitment: expected OP_RETURN 0x24 aa21a9ed <32 bytes>');
  }
  return script.slice(6);
}

export function buildJob(template: BlockTemplate, options: JobOptions): Job {
  const txs = template.transactions;
  const segwit = template.rules.some((r) => r === 'segwit' || r === '!segwit');
  let commitment: Uint8Array | undefined;
  if (segwit) {
    // BIP141: computed from the wtxids ourselves and, when the node offers its own, checked
    // against it, so a disagreement is caught here rather than as a rejected block.
    commitment = witnessCommitmentOf(txs.map((tx) => tx.hash));
    if (template.default_witness_commitment !== undefined) {
      const offered = commitmentFromScript(template.default_witness_commitment);
      if (bytesToHex(offered) !== bytesToHex(commitment)) {
        throw new TemplateError('getblocktemplate/default_witness_commitment: does not match the commitment computed from the transactions');
      }
    }
  }
  const coinbase = buildCoinbase({
    height: template.height,
    extranonceSize: options.extranonceSize,
    payoutScript: options.payoutScript,
    value: template.coinbasevalue,
    ...(options.coinbaseTag ? { tag: options.coinbaseTag } : {}),
    ...(commitment ? { witnessCommitment: commitment } : {}),
  });
  const bits = bitsFromHex(template.bits);
  const target = bitsToTarget(bits);
  if (target.toString(16).padStart(64, '0') !== template.target.toLowerCase()) {
    throw new TemplateError(`getblocktemplate/target: ${template.target} does not match bits ${template.bits}`);
  }
  const rolling: JobRolling = options.versionRolling === false
    ? { mask: 0, reason: ROLLING_OFF_REASON }
    : templateRolling(template.version >>> 0, Object.values(template.vbavailable ?? {}));
  return {
    id: options.id,
    height: template.height,
    previousBlockHash: template.previousblockhash.toLowerCase(),
    prevHash: reverseBytes(hexToBytes(template.previousblockhash)),
    version: template.version >>> 0,
    bits,
    target,
    targetBytes: targetToBytes(target),
    curtime: template.curtime,
    mintime: template.mintime,
    coinbase,
    payoutScript: options.payoutScript,
    coinbaseTag: options.coinbaseTag,
    witnessCommitment: commitment,
    coinbaseValue: template.coinbasevalue,
    merkleBranch: coinbaseMerkleBranch(txs.map((tx) => tx.txid)),
    txCount: txs.length + 1,
    // Joined once per job: a found block is then three small hex conversions and one concat,
    // which keeps solved-to-submitted in the sub-millisecond range even for large templates.
    transactionsHex: txs.map((tx) => tx.data).join(''),
    cleanJobs: options.cleanJobs,
    longpollId: template.longpollid,
    rolling,
    createdAt: Date.now(),
  };
}

/**
 * The same job paying another scriptPubKey (a Stratum connection paid to its own address): only
 * the coinbase is built again; the merkle branch, the witness commitment and the transactions
 * do not depend on the payout, so a variant costs one small coinbase and no hashing.
 */
export function jobForPayout(job: Job, id: string, payoutScript: Uint8Array): Job {
  const coinbase = buildCoinbase({
    height: job.height,
    extranonceSize: job.coinbase.extranonceSize,
    payoutScript,
    value: job.coinbaseValue,
    ...(job.coinbaseTag ? { tag: job.coinbaseTag } : {}),
    ...(job.witnessCommitment ? { witnessCommitment: job.witnessCommitment } : {}),
  });
  return { ...job, id, coinbase, payoutScript, createdAt: Date.now() };
}

/** The block time to use now: the clock, kept within [mintime, clock + 2 h]. */
export function jobTime(job: Job, nowSeconds = Math.floor(Date.now() / 1000)): number {
  return Math.min(Math.max(nowSeconds, job.mintime, job.curtime), nowSeconds + MAX_FUTURE_SECONDS);
}

/** How many versions an engine wanting `wanted` per scan gets on a job that rolls `rolling` (1: no rolling). */
export function versionsFor(rolling: JobRolling, wanted: number): number {
  return Math.max(1, Math.min(wanted, versionsInMask(rolling.mask, wanted)));
}

/**
 * A unit of `job` with this extranonce and time, hashed with `rolled` versions (1..2^bits of
 * the job's rolling mask): `version`, then the versions rolled from it over job.rolling.mask.
 */
export function makeWorkUnit(job: Job, extranonce: Uint8Array, time: number, version = job.version, rolled = 1): WorkUnit {
  const tx = coinbaseTx(job.coinbase, extranonce);
  const merkleRoot = rootFromBranch(txidOf(tx), job.merkleBranch);
  const header = serializeHeader({ version, prevHash: job.prevHash, merkleRoot, time, bits: job.bits, nonce: 0 });
  const versions = rolled > 1 ? rolledVersions(version, job.rolling.mask, rolled) : [version >>> 0];
  return { job, extranonce, time, version, versions, coinbaseTx: tx, header };
}

/** The double hash of a unit's header with `nonce` and `version`, display hex: the orchestrator's own check. */
export function unitHash(unit: WorkUnit, nonce: number, version = unit.version): string {
  return bytesToHex(reverseBytes(sha256d(withNonce(withVersion(unit.header, version), nonce))));
}

export function assembleBlock(unit: WorkUnit, nonce: number, version = unit.version): AssembledBlock {
  const header = withNonce(withVersion(unit.header, version), nonce);
  const coinbase = unit.job.coinbase.hasWitnessCommitment ? coinbaseWithWitness(unit.coinbaseTx) : unit.coinbaseTx;
  return {
    hash: bytesToHex(reverseBytes(sha256d(header))),
    header,
    hex: bytesToHex(header) + bytesToHex(compactSize(unit.job.txCount)) + bytesToHex(coinbase) + unit.job.transactionsHex,
  };
}
