/**
 * Byte helpers: hex, byte order, little-endian integers and CompactSize.
 *
 * Bitcoin serializes integers little-endian and shows hashes byte-reversed ("display order",
 * the order of block explorers and RPC); see `reverseBytes`.
 * @module
 */
import { HexError, LengthError, OutOfRangeError } from './errors.js';

const HEX_RE = /^[0-9a-fA-F]*$/;

/**
 * Decodes a hex string (either case) to bytes.
 * @param hex - the hex text; must have an even length and only 0-9, a-f, A-F
 * @param where - field name used in error messages
 * @param length - when given, the exact number of bytes expected
 * @throws HexError on a non-string, an odd length, a non-hex character or a wrong byte length
 */
export function hexToBytes(hex: string, where = 'hex', length?: number): Uint8Array {
  if (typeof hex !== 'string') throw new HexError(where, `expected a hex string, got ${typeof hex}`);
  if (hex.length % 2 !== 0) throw new HexError(where, `expected an even number of hex digits, got ${hex.length}`);
  if (!HEX_RE.test(hex)) {
    const bad = hex.search(/[^0-9a-fA-F]/);
    throw new HexError(where, `invalid hex character ${JSON.stringify(hex[bad])} at index ${bad}`);
  }
  if (length !== undefined && hex.length !== length * 2)
    throw new HexError(where, `expected ${length} bytes (${length * 2} hex digits), got ${hex.length / 2} bytes`);
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** Encodes bytes as lowercase hex, in the order given (no reversal). */
export function bytesToHex(bytes: Uint8Array): string {
  assertBytes(bytes, 'bytes');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * Returns a reversed copy. Hashes are computed and serialized in "internal" byte order
 * (the raw SHA-256d output); RPC, explorers and logs show them reversed ("display order").
 */
export function reverseBytes(bytes: Uint8Array): Uint8Array {
  assertBytes(bytes, 'bytes');
  return Uint8Array.from(bytes).reverse();
}

/** Concatenates byte arrays into a new one. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const [i, p] of parts.entries()) {
    assertBytes(p, `concatBytes/${i}`);
    total += p.length;
  }
  const out = new Uint8Array(total);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** Constant-time-agnostic byte equality (not for secrets). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Checks that `value` is a Uint8Array, optionally of an exact length.
 * @throws LengthError otherwise
 */
export function assertBytes(value: unknown, where: string, length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array))
    throw new LengthError(where, `expected Uint8Array, got ${value === null ? 'null' : typeof value}`);
  if (length !== undefined && value.length !== length)
    throw new LengthError(where, `expected ${length} bytes, got ${value.length}`);
}

/**
 * Accepts bytes or hex text (as found in RPC answers) and returns bytes.
 * @throws HexError / LengthError
 */
export function toBytes(value: Uint8Array | string, where: string, length?: number): Uint8Array {
  if (typeof value === 'string') return hexToBytes(value, where, length);
  assertBytes(value, where, length);
  return value;
}

/** Checks an integer range; `range` is the text used in the error, e.g. `0..2^32-1`. */
export function assertInt(value: unknown, min: number, max: number, where: string, range: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max)
    throw new OutOfRangeError(where, `expected an integer ${range}, got ${describe(value)}`);
}

/** Short printable form of a value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
  return String(value);
}

/** Writes an unsigned 32-bit integer little-endian (nVersion, nTime, nBits, nNonce, nSequence, nLockTime). */
export function u32LE(value: number, where = 'u32'): Uint8Array {
  assertInt(value, 0, 0xffffffff, where, '0..2^32-1');
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, true);
  return out;
}

/** Writes a signed 32-bit integer little-endian (two's complement), e.g. a negative nVersion. */
export function i32LE(value: number, where = 'i32'): Uint8Array {
  assertInt(value, -0x80000000, 0x7fffffff, where, '-2^31..2^31-1');
  return u32LE(value >>> 0, where);
}

/** Reads an unsigned 32-bit little-endian integer at `offset`. */
export function readU32LE(bytes: Uint8Array, offset: number, where = 'u32'): number {
  assertBytes(bytes, where);
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + 4 > bytes.length)
    throw new LengthError(where, `cannot read 4 bytes at offset ${offset} of ${bytes.length}`);
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset, true);
}

const U64_MAX = (1n << 64n) - 1n;

/** Writes an unsigned 64-bit integer little-endian (an output's value in satoshis). */
export function u64LE(value: bigint | number, where = 'u64'): Uint8Array {
  const v = toBigUint(value, where);
  if (v > U64_MAX) throw new OutOfRangeError(where, `expected 0..2^64-1, got ${describe(value)}`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, v, true);
  return out;
}

/**
 * CompactSize ("varint") encoding of counts and lengths:
 * < 0xfd: 1 byte; ≤ 0xffff: 0xfd + u16; ≤ 0xffffffff: 0xfe + u32; else 0xff + u64 (all LE).
 */
export function compactSize(value: bigint | number, where = 'compactSize'): Uint8Array {
  const v = toBigUint(value, where);
  if (v > U64_MAX) throw new OutOfRangeError(where, `expected 0..2^64-1, got ${describe(value)}`);
  if (v < 0xfdn) return Uint8Array.of(Number(v));
  if (v <= 0xffffn) {
    const out = new Uint8Array(3);
    out[0] = 0xfd;
    new DataView(out.buffer).setUint16(1, Number(v), true);
    return out;
  }
  if (v <= 0xffffffffn) {
    const out = new Uint8Array(5);
    out[0] = 0xfe;
    new DataView(out.buffer).setUint32(1, Number(v), true);
    return out;
  }
  const out = new Uint8Array(9);
  out[0] = 0xff;
  new DataView(out.buffer).setBigUint64(1, v, true);
  return out;
}

function toBigUint(value: bigint | number, where: string): bigint {
  if (typeof value === 'bigint') {
    if (value < 0n) throw new OutOfRangeError(where, `expected a non-negative integer, got ${describe(value)}`);
    return value;
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new OutOfRangeError(where, `expected a non-negative safe integer or bigint, got ${describe(value)}`);
  return BigInt(value);
}
