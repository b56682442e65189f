/**
 * Checking a share, whatever wire it came on: the header a miner hashed is rebuilt from the job
 * it was sent and the fields it returns (the whole extranonce, ntime, nonce, the full version),
 * hashed here with an independent SHA-256d, and its difficulty computed. Pure functions; which
 * job, whether it is stale or a duplicate and what difficulty it owes are the session's business
 * (session.ts); how the fields are spelled on the wire is the wire layer's (v1/, v2/).
 *
 * Written for speed (docs/stratum.md: ≥ 50,000 shares/s on one core): per job the coinbase,
 * branch and header are laid out once in buffers that each share fills in place; the hashing
 * is one native call; no bigint unless the share is close to the block target.
 * @module
 */
import { DIFF1_TARGET } from '../bitcoin/target.js';
import { nativeAddon } from '../native/addon.js';
import type { Job } from '../work/job.js';

/** Bitcoin Core accepts block times up to two hours ahead of its clock. */
const MAX_FUTURE_SECONDS = 2 * 60 * 60;
const DIFF1 = Number(DIFF1_TARGET);
const TWO_32 = 2 ** 32;

/** BIP320: the version bits a miner may roll, as every pool offers them. */
export const SERVER_VERSION_MASK = 0x1fffe000;

/**
 * Why a share (or a request) was refused, the same on every wire: each wire spells it its own
 * way (Stratum V1's error codes, Stratum V2's error strings); `REJECT_REASON` is how metrics and
 * reports count it.
 */
export type RejectKind = 'invalid' | 'unknown-job' | 'stale' | 'duplicate' | 'low-difficulty' | 'unauthorized' | 'not-subscribed' | 'invalid-channel';

export const REJECT_REASON: Readonly<Record<RejectKind, string>> = {
  invalid: 'other',
  'unknown-job': 'stale',
  stale: 'stale',
  duplicate: 'duplicate',
  'low-difficulty': 'low-difficulty',
  unauthorized: 'unauthorized',
  'not-subscribed': 'not-subscribed',
  'invalid-channel': 'other',
};

/** A job made ready for fast share checks: buffers filled in place for every share. */
export interface PreparedJob {
  readonly job: Job;
  /** coinb1 ‖ extranonce ‖ coinb2, the extranonce written per share. */
  readonly coinbase: Buffer;
  readonly extranonceOffset: number;
  readonly extranonceSize: number;
  /** The merkle branch, 32 bytes per level, internal order. */
  readonly branch: Buffer;
  /** The header: prevhash and bits fixed; version, root, time and nonce written per share. */
  readonly header: Buffer;
  readonly hash: Buffer;
}

export function prepareJob(job: Job): PreparedJob {
  const { coinb1, coinb2, extranonceSize } = job.coinbase;
  const coinbase = Buffer.alloc(coinb1.length + extranonceSize + coinb2.length);
  coinbase.set(coinb1, 0);
  coinbase.set(coinb2, coinb1.length + extranonceSize);
  const header = Buffer.alloc(80);
  header.set(job.prevHash, 4);
  header.writeUInt32LE(job.bits >>> 0, 72);
  return {
    job,
    coinbase,
    extranonceOffset: coinb1.length,
    extranonceSize,
    branch: Buffer.concat(job.merkleBranch.map((h) => Buffer.from(h))),
    header,
    hash: Buffer.alloc(32),
  };
}

/**
 * The merkle root of `prepared` with `extranonce` in its coinbase (a Stratum V2 standard channel's
 * header-only job), internal order: the same native call as a share, its hash ignored.
 */
export function merkleRootWith(prepared: PreparedJob, extranonce: Uint8Array): Buffer {
  if (extranonce.length !== prepared.extranonceSize) throw new RangeError(`extranonce: expected ${prepared.extranonceSize} bytes, got ${extranonce.length}`);
  const { coinbase, header } = prepared;
  coinbase.set(extranonce, prepared.extranonceOffset);
  nativeAddon().shareHash(coinbase, prepared.branch, header, prepared.hash);
  return Buffer.from(header.subarray(36, 68));
}

/** A share's fields in numbers, as every wire ends up with them. */
export interface ShareFields {
  /** The whole extranonce of the coinbase (the pool's part first). */
  readonly extranonce: Uint8Array;
  readonly ntime: number;
  readonly nonce: number;
  /** The full header version. */
  readonly version: number;
}

export interface CheckedShare {
  readonly ok: true;
  /** SHA-256d of the header, internal byte order. */
  readonly hash: Buffer;
  /** DIFF1_TARGET / hash (the pool convention); Infinity for a zero hash. */
  readonly difficulty: number;
  /** The hash is at or below the job's block target (exactly, in bigint). */
  readonly isBlock: boolean;
  readonly extranonce: Buffer;
  readonly version: number;
  readonly ntime: number;
  readonly nonce: number;
}

export interface RejectedShare {
  readonly ok: false;
  readonly kind: RejectKind;
  readonly message: string;
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

export function rejected(kind: RejectKind, message: string): RejectedShare {
  return { ok: false, kind, message };
}

/**
 * The share's header and hash, or why its fields cannot be right. `mask` is the version bits
 * the miner may roll (0 without version rolling); `nowSeconds` bounds ntime.
 */
export function checkShare(prepared: PreparedJob, fields: ShareFields, mask: number, nowSeconds: number): CheckedShare | RejectedShare {
  const { job } = prepared;
  if (fields.extranonce.length !== prepared.extranonceSize) return rejected('invalid', `extranonce: expected ${prepared.extranonceSize} bytes, got ${fields.extranonce.length}`);
  const { ntime, nonce } = fields;
  if (ntime < job.mintime) return rejected('invalid', `ntime: ${ntime} is before the template's mintime ${job.mintime}`);
  if (ntime > nowSeconds + MAX_FUTURE_SECONDS) return rejected('invalid', `ntime: ${ntime} is more than 2 h ahead of the pool's clock`);
  const version = fields.version >>> 0;
  const rolled = (version ^ job.version) >>> 0;
  if ((rolled & ~mask) >>> 0 !== 0) {
    return rejected('invalid', mask === 0 ? `version: ${version.toString(16)} differs from the job's ${(job.version >>> 0).toString(16)} and version rolling is off` : `version: bits ${((rolled & ~mask) >>> 0).toString(16)} changed outside the mask ${mask.toString(16)}`);
  }

  // The job's own buffers, filled in place (shares are checked one at a time on this thread).
  const { coinbase, header } = prepared;
  const at = prepared.extranonceOffset;
  coinbase.set(fields.extranonce, at);
  header.writeUInt32LE(version, 0);
  header.writeUInt32LE(ntime >>> 0, 68);
  header.writeUInt32LE(nonce >>> 0, 76);
  // Coinbase txid, merkle fold and header hash in one native call: node:crypto would pay a
  // JavaScript round trip for each of the ~30 SHA-256 of a share (docs/stratum.md, benchmark).
  nativeAddon().shareHash(coinbase, prepared.branch, header, prepared.hash);
  const hash = Buffer.from(prepared.hash);
  const difficulty = difficultyOf(hash);
  // Exact only where it matters: a hash within 1 % of the block target's difficulty.
  const blockDifficulty = DIFF1 / Number(job.target);
  const isBlock = difficulty >= blockDifficulty * 0.99 && hashValue(hash) <= job.target;
  return { ok: true, hash, difficulty, isBlock, extranonce: Buffer.from(fields.extranonce), version, ntime, nonce };
}
