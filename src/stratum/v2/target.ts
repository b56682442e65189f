/**
 * Share targets as Stratum V2 sends them: a U256, the raw 32 bytes of a little-endian number
 * (sv2-spec §3.1) — the byte order of a hash as SHA-256 outputs it, the reverse of its display
 * order. ESP-Miner issue #1758: a pool that sent it big-endian had every share dropped in silence.
 * The pool thinks in difficulties (vardiff); these convert exactly.
 * @module
 */
import { difficultyToTarget, targetToDifficulty } from '../../bitcoin/target.js';

const MAX_U256 = (1n << 256n) - 1n;

export function targetToLE(target: bigint): Buffer {
  if (target < 0n || target > MAX_U256) throw new RangeError(`target: expected 0..2^256-1, got ${target}`);
  return Buffer.from(target.toString(16).padStart(64, '0'), 'hex').reverse();
}

export function targetFromLE(bytes: Uint8Array): bigint {
  if (bytes.length !== 32) throw new RangeError(`target: expected 32 bytes, got ${bytes.length}`);
  return BigInt(`0x${Buffer.from(bytes).reverse().toString('hex')}`);
}

/** The channel target of a share difficulty (DIFF1 / difficulty, rounded down), little-endian. */
export function difficultyToTargetLE(difficulty: number): Buffer {
  return targetToLE(difficultyToTarget(difficulty));
}

/** The difficulty of a little-endian target (0 counts as the hardest there is). */
export function targetLEToDifficulty(bytes: Uint8Array): number {
  const t = targetFromLE(bytes);
  return t === 0n ? Number.MAX_VALUE : targetToDifficulty(t);
}
