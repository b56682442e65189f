// Byte helpers: hex, byte order, little-endian integers, CompactSize (Bitcoin's varint).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bytesToHex,
  compactSize,
  concatBytes,
  HexError,
  hexToBytes,
  i32LE,
  OutOfRangeError,
  readU32LE,
  reverseBytes,
  u32LE,
  u64LE,
} from '../../src/bitcoin/index.js';

describe('hex', { timeout: 60_000 }, () => {
  it('round-trips and accepts either case', () => {
    assert.equal(bytesToHex(hexToBytes('00ff10AB')), '00ff10ab');
    assert.deepEqual(hexToBytes(''), new Uint8Array(0));
  });
  it('rejects odd length, non-hex characters and wrong byte counts, naming the field', () => {
    assert.throws(() => hexToBytes('abc', 'prevHash'), {
      name: 'HexError',
      message: 'prevHash: expected an even number of hex digits, got 3',
    });
    assert.throws(() => hexToBytes('zz', 'tx'), { message: 'tx: invalid hex character "z" at index 0' });
    assert.throws(() => hexToBytes('0x00'), HexError);
    assert.throws(() => hexToBytes('00 1', 'x'), HexError);
    assert.throws(() => hexToBytes('0011', 'hash', 32), {
      message: 'hash: expected 32 bytes (64 hex digits), got 2 bytes',
    });
    assert.throws(() => hexToBytes(5 as unknown as string), HexError);
  });
});

describe('byte order and integers', { timeout: 60_000 }, () => {
  it('reverseBytes returns a reversed copy', () => {
    const a = Uint8Array.of(1, 2, 3);
    assert.deepEqual(reverseBytes(a), Uint8Array.of(3, 2, 1));
    assert.deepEqual(a, Uint8Array.of(1, 2, 3));
  });
  it('u32LE / readU32LE / i32LE', () => {
    assert.equal(bytesToHex(u32LE(0x1d00ffff)), 'ffff001d');
    assert.equal(bytesToHex(u32LE(0xffffffff)), 'ffffffff');
    assert.equal(readU32LE(hexToBytes('ffff001d'), 0), 0x1d00ffff);
    assert.equal(bytesToHex(i32LE(-1)), 'ffffffff');
    assert.throws(() => u32LE(2 ** 32, 'header/time'), {
      name: 'OutOfRangeError',
      message: 'header/time: expected an integer 0..2^32-1, got 4294967296',
    });
    assert.throws(() => u32LE(-1), OutOfRangeError);
    assert.throws(() => readU32LE(new Uint8Array(3), 0), { name: 'LengthError' });
  });
  it('u64LE writes satoshi amounts', () => {
    assert.equal(bytesToHex(u64LE(5_000_000_000n)), '00f2052a01000000');
    assert.equal(bytesToHex(u64LE(5_000_000_000)), '00f2052a01000000');
    assert.equal(bytesToHex(u64LE((1n << 64n) - 1n)), 'ffffffffffffffff');
    assert.throws(() => u64LE(1n << 64n), OutOfRangeError);
    assert.throws(() => u64LE(-1n), OutOfRangeError);
    assert.throws(() => u64LE(2 ** 53), OutOfRangeError);
  });
  it('concatBytes', () => {
    assert.deepEqual(concatBytes(Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3)), Uint8Array.of(1, 2, 3));
  });
});

describe('CompactSize', { timeout: 60_000 }, () => {
  const cases: [bigint | number, string][] = [
    [0, '00'],
    [1, '01'],
    [0xfc, 'fc'],
    [0xfd, 'fdfd00'],
    [0xffff, 'fdffff'],
    [0x10000, 'fe00000100'],
    [0xffffffff, 'feffffffff'],
    [0x100000000, 'ff0000000001000000'],
    [(1n << 64n) - 1n, 'ffffffffffffffffff'],
  ];
  for (const [n, hex] of cases)
    it(`${n} → ${hex}`, () => {
      assert.equal(bytesToHex(compactSize(n)), hex);
    });
  it('rejects negatives and non-integers', () => {
    assert.throws(() => compactSize(-1), OutOfRangeError);
    assert.throws(() => compactSize(1.5), OutOfRangeError);
  });
});
