// The host's share of the GPU scan (kernels/sha256d-scan.wgsl): everything about one header
// that does not depend on the nonce, computed once per header in JavaScript so the kernel
// spends its rounds only on what changes. node:crypto cannot hand out a SHA-256 midstate, so
// the compression function is written out here (FIPS 180-4 §6.2.2), the same algorithm as
// native/sha256/scalar.cpp.
import { withVersion } from '../../bitcoin/header.js';

const K = Uint32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const IV = Uint32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

const rotr = (x: number, n: number): number => ((x >>> n) | (x << (32 - n))) >>> 0;
const bigSigma0 = (x: number): number => (rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22)) >>> 0;
const bigSigma1 = (x: number): number => (rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25)) >>> 0;
const smallSigma0 = (x: number): number => (rotr(x, 7) ^ rotr(x, 18) ^ (x >>> 3)) >>> 0;
const smallSigma1 = (x: number): number => (rotr(x, 17) ^ rotr(x, 19) ^ (x >>> 10)) >>> 0;
const ch = (x: number, y: number, z: number): number => ((x & y) ^ (~x & z)) >>> 0;
const maj = (x: number, y: number, z: number): number => ((x & y) ^ (x & z) ^ (y & z)) >>> 0;

function readBE32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

/** The eight working registers a..h after `rounds` rounds of one block, from `state`. */
function runRounds(state: Uint32Array, words: Uint32Array, rounds: number): Uint32Array {
  let [a, b, c, d, e, f, g, h] = state as unknown as [number, number, number, number, number, number, number, number];
  for (let t = 0; t < rounds; t++) {
    const t1 = (h + bigSigma1(e) + ch(e, f, g) + K[t]! + words[t]!) >>> 0;
    const t2 = (bigSigma0(a) + maj(a, b, c)) >>> 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) >>> 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) >>> 0;
  }
  return Uint32Array.from([a, b, c, d, e, f, g, h]);
}

function expandSchedule(block: Uint32Array): Uint32Array {
  const w = new Uint32Array(64);
  w.set(block.subarray(0, 16));
  for (let t = 16; t < 64; t++) {
    w[t] = (smallSigma1(w[t - 2]!) + w[t - 7]! + smallSigma0(w[t - 15]!) + w[t - 16]!) >>> 0;
  }
  return w;
}

/** SHA-256 state after the header's first 64 bytes (the midstate). */
export function headerMidstate(header: Uint8Array): Uint32Array {
  const block = new Uint32Array(16);
  for (let t = 0; t < 16; t++) block[t] = readBE32(header, 4 * t);
  const regs = runRounds(IV, expandSchedule(block), 64);
  return regs.map((v, i) => (v + IV[i]!) >>> 0);
}

/** Versions one dispatch can hash each nonce with (the kernel's MAX_VERSIONS). */
export const KERNEL_MAX_VERSIONS = 16;
/** Word offsets of the per-dispatch fields in the kernel's ScanParams. */
export const PARAM_FIRST = 8;
export const PARAM_COUNT = 9;
export const PARAM_TARGET_TOP_WORD = 10;
export const PARAM_VERSION_COUNT = 11;
/** Where the per-version entries start, and the words of one (4 vec4<u32>). */
const VERSION_BASE = 12;
const VERSION_WORDS = 16;
/** The whole uniform: shared schedule words, the per-dispatch fields, KERNEL_MAX_VERSIONS version entries. */
export const SCAN_PARAM_WORDS = VERSION_BASE + VERSION_WORDS * KERNEL_MAX_VERSIONS;
export const SCAN_PARAM_BYTES = SCAN_PARAM_WORDS * 4;

/**
 * The kernel's ScanParams for `header` (its nonce field is ignored) hashed with `versions`
 * (the header's own version when absent), laid out as in kernels/sha256d-scan.wgsl: the host
 * parts of W16..W19, W31, W32 (the second block is the same for every version), a zero word,
 * the version count, and per version its midstate, the registers after rounds 0..2 of the
 * second block and round 3 without W3. first, count and the target's top word are left for
 * the dispatch.
 */
export function headerScanParams(header: Uint8Array, versions?: readonly number[]): Uint32Array {
  if (header.length !== 80) throw new RangeError(`header: expected 80 bytes, got ${header.length}`);
  const list = versions ?? [new DataView(header.buffer, header.byteOffset, 80).getUint32(0, true)];
  if (list.length < 1 || list.length > KERNEL_MAX_VERSIONS) {
    throw new RangeError(`versions: expected 1..${KERNEL_MAX_VERSIONS}, got ${list.length}`);
  }
  // Second block with nonce 0: W3 is the only word that changes, and each use of it below
  // is kept out of the host's sums.
  const block = new Uint32Array(16);
  for (let t = 0; t < 3; t++) block[t] = readBE32(header, 64 + 4 * t);
  block[4] = 0x80000000;
  block[15] = 80 * 8;
  const w = expandSchedule(block);
  const w16 = w[16]!;
  const w17 = w[17]!;
  const w18Part = (smallSigma1(w16) + block[2]!) >>> 0; // + sigma0(W3) on the GPU (W11 = 0)
  const w19Part = (smallSigma1(w17) + smallSigma0(block[4]!)) >>> 0; // + W3 on the GPU (W12 = 0)
  const w31Part = (smallSigma0(w16) + block[15]!) >>> 0;
  const w32Part = (smallSigma0(w17) + w16) >>> 0;

  const out = new Uint32Array(SCAN_PARAM_WORDS);
  out.set([w16, w17, w18Part, w19Part], 0);
  // Then `zero`, which must be 0: the kernel computes K[t] + W[t] as (K[t] ^ zero) + W[t], a
  // sum the JIT cannot split apart again (kernels/sha256d-scan.wgsl); and a pad word.
  out.set([w31Part, w32Part, 0, 0], 4);
  out[PARAM_VERSION_COUNT] = list.length;
  for (const [v, version] of list.entries()) {
    const midstate = headerMidstate(withVersion(header, version));
    const [a, b, c, d, e, f, g, h] = runRounds(midstate, w, 3) as unknown as [number, number, number, number, number, number, number, number];
    const t1WithoutW3 = (h + bigSigma1(e) + ch(e, f, g) + K[3]!) >>> 0;
    const t2 = (bigSigma0(a) + maj(a, b, c)) >>> 0;
    const at = VERSION_BASE + VERSION_WORDS * v;
    out.set(midstate, at);
    out.set([a, b, c, (t1WithoutW3 + t2) >>> 0], at + 8);
    out.set([e, f, g, (d + t1WithoutW3) >>> 0], at + 12);
  }
  return out;
}

/** The target's most significant 32 bits (display order): the kernel's filter word. */
export function targetTopWord(target: Uint8Array): number {
  return readBE32(target, 0);
}
