/**
 * Checking a `mining.submit`: the header a miner hashed is rebuilt from the job it was sent and
 * the fields it returns (extranonce2, ntime, nonce, BIP310 version bits), hashed here with an
 * independent SHA-256d, and its difficulty computed. Pure functions; which job, whether it is
 * stale or a duplicate and what difficulty it owes are the connection's business.
 *
 * Written for speed (docs/stratum.md: ≥ 50,000 shares/s on one core): per job the coinbase,
 * branch and header are laid out once in buffers that each share fills in place; the hashing
 * is one native call; no bigint unless the share is close to the block target.
 * @module
 */
import { DIFF1_TARGET } from '../bitcoin/target.js';
import { nativeAddon } from '../native/addon.js';
import type { Job } from '../work/job.js';
import { parseHex32, StratumErrorCode } from './protocol.js';

/** Bitcoin Core accepts block times up to two hours ahead of its clock. */
const MAX_FUTURE_SECONDS = 2 * 60 * 60;
const DIFF1 = Number(DIFF1_TARGET);
const TWO_32 = 2 ** 32;

/** A job made ready for fast share checks: buffers filled in place for every share. */
export interface PreparedJob {
  readonly job: Job;
  /** coinb1 ‖ extranonce1 ‖ extranonce2 ‖ coinb2, the extranonce written per share. */
  readonly coinbase: Buffer;
  readonly extranonceOffset: number;
  /** The merkle branch, 32 bytes per level, internal order. */
  readonly branch: Buffer;
  /** The header: prevhash and bits fixed; version, root, time and nonce written per share. */
  readonly header: Buffer;
  readonly hash: Buffer;
  readonly extranonce1Size: number;
  readonly extranonce2Size: number;
}

export function prepareJob(job: Job, extranonce1Size: number): PreparedJob {
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
    branch: Buffer.concat(job.merkleBranch.map((h) => Buffer.from(h))),
    header,
    hash: Buffer.alloc(32),
    extranonce1Size,
    extranonce2Size: extranonceSize - extranonce1Size,
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
  /** extranonce1 ‖ extranonce2. */
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

  // The job's own buffers, filled in place (shares are checked one at a time on this thread).
  const { coinbase, header } = prepared;
  const at = prepared.extranonceOffset;
  coinbase.set(extranonce1, at);
  coinbase.write(fields.extranonce2, at + prepared.extranonce1Size, 'hex');
  header.writeUInt32LE(version, 0);
  header.writeUInt32LE(ntime, 68);
  header.writeUInt32LE(nonce, 76);
  // Coinbase txid, merkle fold and header hash in one native call: node:crypto would pay a
  // JavaScript round trip for each of the ~30 SHA-256 of a share (docs/stratum.md, benchmark).
  nativeAddon().shareHash(coinbase, prepared.branch, header, prepared.hash);
  const hash = Buffer.from(prepared.hash);
  const extranonce = Buffer.from(coinbase.subarray(at, at + prepared.extranonce1Size + prepared.extranonce2Size));
  const difficulty = difficultyOf(hash);
  // Exact only where it matters: a hash within 1 % of the block target's difficulty.
  const blockDifficulty = DIFF1 / Number(job.target);
  const isBlock = difficulty >= blockDifficulty * 0.99 && hashValue(hash) <= job.target;
  return { ok: true, hash, difficulty, isBlock, extranonce, version, ntime, nonce };
}
