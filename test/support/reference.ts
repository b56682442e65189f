// An independent SHA-256d path (node:crypto, i.e. OpenSSL) that the engines are checked against.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import type { KnownAnswer } from '../../src/engines/known-answers.js';

export function sha256d(data: Uint8Array): Buffer {
  return createHash('sha256').update(createHash('sha256').update(data).digest()).digest();
}

/** The double hash of `header` with `nonce`, in display order (hex). */
export function headerHashHex(header: Uint8Array, nonce: number): string {
  const h = Buffer.from(header);
  h.writeUInt32LE(nonce >>> 0, 76);
  return Buffer.from(sha256d(h)).reverse().toString('hex');
}

/** Every nonce in [start, start+count) whose hash (display hex) is <= target (64 hex). */
export function referenceScan(header: Uint8Array, start: number, count: number, targetHex: string): number[] {
  const out: number[] = [];
  for (let n = start; n < start + count; n++) {
    if (headerHashHex(header, n) <= targetHex) out.push(n);
  }
  return out;
}

/** A fixture block: the same fields as the known answers `mine --smoke-test` ships. */
export type KnownBlock = KnownAnswer;

export function knownBlocks(): KnownBlock[] {
  const path = fileURLToPath(new URL('../../../test/fixtures/headers/known-blocks.json', import.meta.url));
  return (JSON.parse(readFileSync(path, 'utf8')) as { blocks: KnownBlock[] }).blocks;
}

/** The block's 80-byte header with its nonce field set to `nonce` (default 0). */
export function knownHeader(block: KnownBlock, nonce = 0): Uint8Array {
  const h = Buffer.alloc(80);
  h.writeUInt32LE(block.version, 0);
  Buffer.from(block.previousblockhash, 'hex').reverse().copy(h, 4);
  Buffer.from(block.merkleroot, 'hex').reverse().copy(h, 36);
  h.writeUInt32LE(block.time, 68);
  h.writeUInt32LE(Number.parseInt(block.bits, 16), 72);
  h.writeUInt32LE(nonce >>> 0, 76);
  return new Uint8Array(h);
}

/** The target of compact bits, as 32 big-endian bytes (kept independent of src/bitcoin). */
export function bitsTarget(bitsHex: string): Uint8Array {
  const bits = Number.parseInt(bitsHex, 16);
  const exponent = bits >>> 24;
  const mantissa = bits & 0x7fffff;
  const target = BigInt(mantissa) << BigInt(8 * (exponent - 3));
  return Uint8Array.from(Buffer.from(target.toString(16).padStart(64, '0'), 'hex'));
}

/** A deterministic pseudo-random byte stream, so a failing case can be reproduced. */
export function seededBytes(seed: number, length: number): Uint8Array {
  let x = (seed * 2654435761 + 0x9e3779b9) >>> 0 || 1;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
