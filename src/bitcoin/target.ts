/**
 * Proof-of-work targets: compact nBits ↔ 256-bit target, the hash ≤ target check, difficulty.
 *
 * Compact form (Bitcoin Core `arith_uint256::SetCompact`/`GetCompact`): the top byte is a size
 * in bytes, the low 23 bits a mantissa and bit 0x00800000 a sign bit;
 * target = mantissa × 256^(size−3). Block validity (`CheckProofOfWork`, pow.cpp) rejects a
 * negative, overflowing or zero target, and a block hash — read as a little-endian 256-bit
 * integer from its internal byte order — must be ≤ target.
 * @module
 */
import { assertBytes, assertInt, describe, hexToBytes } from './bytes.js';
import { BitsError, OutOfRangeError } from './errors.js';

const MAX_U256 = (1n << 256n) - 1n;

/** The difficulty-1 target, 0x00000000ffff0000…0000 (compact 0x1d00ffff); difficulty = DIFF1_TARGET / target. */
export const DIFF1_TARGET: bigint = 0xffffn << 208n;

function hex8(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

/**
 * Expands compact nBits to the 256-bit target, rejecting what `CheckProofOfWork` rejects:
 * a set sign bit with a non-zero mantissa (negative), a value above 2^256−1 (overflow), or zero.
 * Non-canonical encodings that denote a valid target are accepted, as `SetCompact` does.
 * @throws BitsError / OutOfRangeError
 */
export function bitsToTarget(bits: number): bigint {
  assertInt(bits, 0, 0xffffffff, 'bits', '0..0xffffffff');
  const size = bits >>> 24;
  let word = bits & 0x007fffff;
  let target: bigint;
  if (size <= 3) {
    word >>>= 8 * (3 - size);
    target = BigInt(word);
  } else {
    target = BigInt(word) << BigInt(8 * (size - 3));
  }
  if (word !== 0 && (bits & 0x00800000) !== 0)
    throw new BitsError('bits', `${hex8(bits)} is negative (sign bit 0x00800000 set)`);
  if (word !== 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32)))
    throw new BitsError('bits', `${hex8(bits)} overflows 256 bits`);
  if (target === 0n) throw new BitsError('bits', `${hex8(bits)} is a zero target`);
  return target;
}

/**
 * The canonical compact form of a target (Bitcoin Core `GetCompact`), the form block headers and
 * `getblocktemplate` carry. Precision beyond the 3-byte mantissa is truncated.
 * @throws OutOfRangeError unless 1 ≤ target ≤ 2^256−1
 */
export function targetToBits(target: bigint): number {
  assertTarget(target, 'targetToBits/target');
  let size = Math.ceil(target.toString(2).length / 8);
  let compact =
    size <= 3 ? Number(target << BigInt(8 * (3 - size))) : Number(target >> BigInt(8 * (size - 3)));
  // The mantissa is signed: if its top bit would be set, use one more byte of size instead.
  if (compact & 0x00800000) {
    compact >>>= 8;
    size += 1;
  }
  return ((size << 24) | compact) >>> 0;
}

/** Parses nBits as 8 hex digits, as `getblocktemplate` gives it ("1d00ffff"). */
export function bitsFromHex(hex: string): number {
  const b = hexToBytes(hex, 'bits', 4);
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

/** The target as 32 bytes, big-endian (display order: leading zeros first). */
export function targetToBytes(target: bigint): Uint8Array {
  assertTarget(target, 'targetToBytes/target', true);
  return hexToBytes(target.toString(16).padStart(64, '0'));
}

/** Parses a 64-hex-digit big-endian (display order) target, as the `scan --target` flag takes it. */
export function targetFromHex(hex: string): bigint {
  hexToBytes(hex, 'target', 32);
  const t = BigInt(`0x${hex}`);
  if (t === 0n) throw new OutOfRangeError('target', 'expected a non-zero target, got 0');
  return t;
}

/**
 * Reads a 32-byte hash in internal byte order (raw SHA-256d output) as the little-endian
 * 256-bit integer that Bitcoin Core's `UintToArith256` compares with the target.
 */
export function hashToBigInt(hash: Uint8Array): bigint {
  assertBytes(hash, 'hash', 32);
  let n = 0n;
  for (let i = 31; i >= 0; i--) n = (n << 8n) | BigInt(hash[i]!);
  return n;
}

/**
 * Whether a hash (internal byte order, 32 bytes) meets the target: `UintToArith256(hash) ≤ target`
 * (Bitcoin Core `CheckProofOfWork`; equality passes).
 */
export function hashMeetsTarget(hash: Uint8Array, target: bigint): boolean {
  assertTarget(target, 'hashMeetsTarget/target', true);
  return hashToBigInt(hash) <= target;
}

/**
 * Difficulty of a target: DIFF1_TARGET / target, as a double (what `getdifficulty` shows for
 * the block's target; 1 for 0x1d00ffff, ≈ 4.66e-10 for regtest's 0x207fffff).
 */
export function targetToDifficulty(target: bigint): number {
  assertTarget(target, 'targetToDifficulty/target');
  return ratio(DIFF1_TARGET, target);
}

/** Difficulty of compact nBits (validated as in `bitsToTarget`). */
export function bitsToDifficulty(bits: number): number {
  return targetToDifficulty(bitsToTarget(bits));
}

/**
 * "Share difficulty" of a hash (internal byte order): DIFF1_TARGET / hash, the highest
 * difficulty whose target the hash would still meet (pool convention). Infinity for a zero hash.
 */
export function hashDifficulty(hash: Uint8Array): number {
  const h = hashToBigInt(hash);
  if (h === 0n) return Infinity;
  return ratio(DIFF1_TARGET, h);
}

/**
 * The target of a (share) difficulty: floor(DIFF1_TARGET / difficulty), capped at 2^256−1.
 * @throws OutOfRangeError unless difficulty is a finite number > 0
 */
export function difficultyToTarget(difficulty: number): bigint {
  if (typeof difficulty !== 'number' || !Number.isFinite(difficulty) || difficulty <= 0)
    throw new OutOfRangeError('difficulty', `expected a finite number > 0, got ${describe(difficulty)}`);
  // difficulty = mant × 2^exp exactly (a double is a 53-bit integer times a power of two),
  // so the division is done exactly in bigint.
  const [mant, exp] = frexpInt(difficulty);
  // target = DIFF1 / (mant × 2^exp)
  let t = exp >= 0 ? DIFF1_TARGET / (mant << BigInt(exp)) : (DIFF1_TARGET << BigInt(-exp)) / mant;
  if (t > MAX_U256) t = MAX_U256;
  if (t === 0n) throw new OutOfRangeError('difficulty', `${difficulty} is too high: its target is 0`);
  return t;
}

/** Splits a positive finite double into an integer mantissa and a power of two: x = m × 2^e. */
function frexpInt(x: number): [bigint, number] {
  let e = 0;
  while (!Number.isInteger(x)) {
    x *= 2;
    e -= 1;
  }
  while (x > Number.MAX_SAFE_INTEGER) {
    x /= 2;
    e += 1;
  }
  return [BigInt(x), e];
}

/** a / b as a double (both ≤ 2^256, so each converts to a finite double). */
function ratio(a: bigint, b: bigint): number {
  return Number(a) / Number(b);
}

function assertTarget(target: bigint, where: string, allowZero = false): void {
  if (typeof target !== 'bigint' || target < (allowZero ? 0n : 1n) || target > MAX_U256)
    throw new OutOfRangeError(where, `expected a bigint ${allowZero ? '0' : '1'}..2^256-1, got ${describe(target)}`);
}
