/**
 * Version rolling in the engines (software AsicBoost): the header versions one scan hashes
 * side by side. BIP320 leaves bits 13..28 (mask 0x1fffe000) of a BIP9 version (top bits 001)
 * to miners; BIP310 (Stratum's `mining.configure`) lets a pool grant a mask of its own.
 *
 * A set of K versions is the base version with the first K values of the rollable bits
 * XORed in: index i's bits go, lowest first, into the mask's set bits (a "bit deposit"). Index
 * 0 is the base version itself, so K = 1 is the header unrolled, and each index maps to one
 * version, so the versions of a set are distinct.
 * @module
 */
import { assertInt } from './bytes.js';
import { BIP320_VERSION_MASK } from './header.js';
import { OutOfRangeError } from './errors.js';

/** BIP9 versions have top bits 001 (BIP9 §Specification); BIP320's bits are defined for them only. */
export const BIP9_TOP_MASK = 0xe0000000;
export const BIP9_TOP_BITS = 0x20000000;

/** Number of set bits of a 32-bit value. */
export function popcount32(x: number): number {
  let v = x >>> 0;
  let n = 0;
  while (v !== 0) {
    v &= v - 1;
    n++;
  }
  return n;
}

/** `index`'s bits placed into the set bits of `mask`, lowest bit first (x86's PDEP). */
export function depositBits(index: number, mask: number): number {
  let out = 0;
  let m = mask >>> 0;
  let i = index;
  while (m !== 0 && i !== 0) {
    const low = m & -m;
    if (i & 1) out |= low;
    m = (m & ~low) >>> 0;
    i >>>= 1;
  }
  return out >>> 0;
}

/** How many distinct versions `mask` can make (2^popcount, never more than `cap`). */
export function versionsInMask(mask: number, cap: number): number {
  const bits = popcount32(mask);
  return bits >= 31 ? cap : Math.min(cap, 2 ** bits);
}

/**
 * Version number `index` of a roll of `base` over `mask`: base ⊕ deposit(index, mask).
 * Index 0 is `base`; index < 2^popcount(mask).
 */
export function rolledVersion(base: number, mask: number, index: number): number {
  assertInt(base, -0x80000000, 0xffffffff, 'version', '-2^31..2^32-1');
  assertInt(mask, 0, 0xffffffff, 'version/mask', '0..2^32-1');
  const limit = versionsInMask(mask, 2 ** 31);
  assertInt(index, 0, limit - 1, 'version/index', `0..${limit - 1} (the mask has ${popcount32(mask)} bits)`);
  return ((base ^ depositBits(index, mask)) >>> 0);
}

/** The first `count` versions of a roll of `base` over `mask` (index 0 = `base`). */
export function rolledVersions(base: number, mask: number, count: number): number[] {
  const limit = versionsInMask(mask, 2 ** 31);
  if (!Number.isSafeInteger(count) || count < 1 || count > limit) {
    throw new OutOfRangeError('version/count', `expected an integer 1..${limit} (the mask has ${popcount32(mask)} bits), got ${count}`);
  }
  return Array.from({ length: count }, (_, i) => rolledVersion(base, mask, i));
}

/** Which bits of a node's template a miner may roll, and why not all of BIP320's (when not). */
export interface TemplateRolling {
  /** The rollable bits: BIP320's mask, less what the node reads as signalling; 0 = none. */
  readonly mask: number;
  /** Why the mask is 0, or narrower than BIP320's; absent when it is all of it. */
  readonly reason?: string;
}

const hex8 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

/**
 * The bits of BIP320's mask a miner may roll on a node's block template (getblocktemplate's
 * `version` and, BIP9 §getblocktemplate, `vbavailable`: the deployments the node tracks, by
 * bit). None when the version is not a BIP9 version, or when it sets bits inside the mask (a
 * deployment signalling there: rolling would clear its bit in half the versions). Bits of a
 * tracked deployment that the template leaves clear are kept out of the mask: the node would
 * read them as signalling.
 */
export function templateRolling(version: number, deploymentBits: readonly number[] = []): TemplateRolling {
  const v = version >>> 0;
  if ((v & BIP9_TOP_MASK) !== BIP9_TOP_BITS) {
    return { mask: 0, reason: `the template's version ${hex8(v)} is not a BIP9 version (top bits 001), so BIP320's bits are not free` };
  }
  const inside = v & BIP320_VERSION_MASK;
  if (inside !== 0) {
    const bits = [...Array(32).keys()].filter((b) => (inside >>> b) & 1);
    return { mask: 0, reason: `the template's version ${hex8(v)} sets bit${bits.length > 1 ? 's' : ''} ${bits.join(', ')} inside BIP320's mask ${hex8(BIP320_VERSION_MASK)} (a deployment signals there)` };
  }
  let tracked = 0;
  for (const bit of deploymentBits) if (Number.isInteger(bit) && bit >= 0 && bit <= 31) tracked |= 1 << bit;
  const mask = (BIP320_VERSION_MASK & ~tracked) >>> 0;
  if (mask === BIP320_VERSION_MASK) return { mask };
  const kept = [...Array(32).keys()].filter((b) => ((BIP320_VERSION_MASK & tracked) >>> b) & 1);
  return { mask, reason: `bit${kept.length > 1 ? 's' : ''} ${kept.join(', ')} of BIP320's mask belong${kept.length > 1 ? '' : 's'} to a deployment the node tracks` };
}

/**
 * The bits a Stratum pool lets this miner roll (BIP310: the mask of its mining.configure answer
 * or a later mining.set_version_mask). Rolling needs all of BIP320's bits: none granted, or a
 * narrower mask, is no rolling (one line says why).
 */
export function poolRolling(granted: number, noMaskReason = 'the pool granted no version-rolling mask (BIP310 mining.configure)'): TemplateRolling {
  const g = granted >>> 0;
  if ((g & BIP320_VERSION_MASK) === BIP320_VERSION_MASK) return { mask: BIP320_VERSION_MASK };
  if (g === 0) return { mask: 0, reason: noMaskReason };
  return { mask: 0, reason: `the pool granted the mask ${hex8(g)}, narrower than BIP320's ${hex8(BIP320_VERSION_MASK)}` };
}
