/**
 * The few script encodings a coinbase needs: data pushes and CScriptNum integers.
 * @module
 */
import { assertBytes, assertInt, concatBytes } from './bytes.js';

/** OP_0 / OP_FALSE: pushes an empty vector. */
export const OP_0 = 0x00;
/** OP_PUSHDATA1: the next byte is the length of the data that follows. */
export const OP_PUSHDATA1 = 0x4c;
/** OP_PUSHDATA2: the next two bytes (LE) are the length. */
export const OP_PUSHDATA2 = 0x4d;
/** OP_1: pushes the number 1; OP_1 + n − 1 pushes n for n = 1..16 (OP_16 = 0x60). */
export const OP_1 = 0x51;
/** OP_RETURN: marks an output unspendable; used for the BIP141 witness commitment. */
export const OP_RETURN = 0x6a;

/**
 * The opcode bytes that introduce a push of `length` bytes, as Bitcoin Core's
 * `CScript::operator<<(std::vector<unsigned char>)` writes them: the length itself below 76,
 * OP_PUSHDATA1 up to 255, OP_PUSHDATA2 up to 65535. Note that a 0-byte push is OP_0.
 */
export function pushOpcode(length: number, where = 'push/length'): Uint8Array {
  assertInt(length, 0, 0xffff, where, '0..65535');
  if (length < OP_PUSHDATA1) return Uint8Array.of(length);
  if (length <= 0xff) return Uint8Array.of(OP_PUSHDATA1, length);
  return Uint8Array.of(OP_PUSHDATA2, length & 0xff, length >>> 8);
}

/** A data push: `pushOpcode(data.length) ‖ data`. */
export function pushData(data: Uint8Array, where = 'push/data'): Uint8Array {
  assertBytes(data, where);
  return concatBytes(pushOpcode(data.length, where), data);
}

/**
 * `CScriptNum::serialize` (script/script.h): minimal little-endian sign-magnitude bytes;
 * 0 is the empty vector; if the top byte's 0x80 bit is used by the magnitude, a sign byte
 * (0x00 or 0x80) is appended.
 */
export function scriptNumBytes(n: number, where = 'scriptNum'): Uint8Array {
  assertInt(n, -0x7fffffff, 0x7fffffff, where, '-(2^31-1)..2^31-1');
  if (n === 0) return new Uint8Array(0);
  const neg = n < 0;
  let abs = Math.abs(n);
  const out: number[] = [];
  while (abs > 0) {
    out.push(abs & 0xff);
    abs = Math.floor(abs / 256);
  }
  const last = out.length - 1;
  if (out[last]! & 0x80) out.push(neg ? 0x80 : 0x00);
  else if (neg) out[last] = out[last]! | 0x80;
  return Uint8Array.from(out);
}

/**
 * `CScript() << n` for an integer (script/script.h `push_int64`): −1 and 1..16 become the
 * single opcodes OP_1NEGATE and OP_1..OP_16, 0 becomes OP_0, anything else a push of
 * `scriptNumBytes(n)`.
 */
export function pushInt(n: number, where = 'scriptInt'): Uint8Array {
  assertInt(n, -0x7fffffff, 0x7fffffff, where, '-(2^31-1)..2^31-1');
  if (n === 0) return Uint8Array.of(OP_0);
  if (n === -1 || (n >= 1 && n <= 16)) return Uint8Array.of(OP_1 - 1 + n);
  return pushData(scriptNumBytes(n, where), where);
}
