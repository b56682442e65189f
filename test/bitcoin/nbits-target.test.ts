// Compact nBits ↔ target (Bitcoin Core arith_uint256 SetCompact/GetCompact, pow.cpp
// CheckProofOfWork), hash ≤ target and difficulty, driven by test/fixtures/bitcoin/nbits.json.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BitsError,
  bitsFromHex,
  bitsToDifficulty,
  bitsToTarget,
  bytesToHex,
  DIFF1_TARGET,
  difficultyToTarget,
  hashDifficulty,
  hashMeetsTarget,
  hashToBigInt,
  hexToBytes,
  OutOfRangeError,
  reverseBytes,
  targetFromHex,
  targetToBits,
  targetToBytes,
  targetToDifficulty,
} from '../../src/bitcoin/index.js';
import { fixture } from './_support/independent.js';

interface Valid {
  bits: string;
  target: string;
  canonical: string;
  difficulty?: number;
  note?: string;
}
const { valid, invalid } = fixture<{ valid: Valid[]; invalid: { bits: string; reason: string }[] }>('nbits.json');

describe('bits → target (valid)', { timeout: 60_000 }, () => {
  for (const v of valid) {
    it(`${v.bits}${v.note ? ` (${v.note})` : ''}`, () => {
      const bits = bitsFromHex(v.bits);
      const target = bitsToTarget(bits);
      assert.equal(bytesToHex(targetToBytes(target)), v.target);
      assert.equal(targetToBits(target), bitsFromHex(v.canonical));
      assert.equal(bitsToTarget(targetToBits(target)), target, 'canonical form denotes the same target');
      if (v.difficulty !== undefined) assert.equal(bitsToDifficulty(bits), v.difficulty);
    });
  }
});

describe('bits → target (rejected like DeriveTarget)', { timeout: 60_000 }, () => {
  for (const v of invalid) {
    it(`${v.bits}: ${v.reason}`, () => {
      assert.throws(() => bitsToTarget(bitsFromHex(v.bits)), (e: unknown) => {
        assert.ok(e instanceof BitsError);
        const kind = v.reason.split(' ')[0] as 'zero' | 'negative' | 'overflow';
        const what = { zero: 'is a zero target', negative: 'is negative (sign bit 0x00800000 set)', overflow: 'overflows 256 bits' }[kind];
        assert.equal(e.message, `bits: 0x${v.bits} ${what}`);
        return true;
      });
    });
  }
  it('rejects non-u32 input', () => {
    assert.throws(() => bitsToTarget(-1), { name: 'OutOfRangeError', message: 'bits: expected an integer 0..0xffffffff, got -1' });
    assert.throws(() => bitsToTarget(2 ** 32), OutOfRangeError);
    assert.throws(() => bitsFromHex('1d00ff'), { name: 'HexError' });
  });
  it('targetToBits rejects 0 and ≥ 2^256', () => {
    assert.throws(() => targetToBits(0n), OutOfRangeError);
    assert.throws(() => targetToBits(1n << 256n), OutOfRangeError);
  });
});

describe('hash ≤ target', { timeout: 60_000 }, () => {
  const target = bitsToTarget(0x1d00ffff);
  // Hashes are in internal byte order: the display hex reversed.
  const hashOf = (display: string): Uint8Array => reverseBytes(hexToBytes(display, 'hash', 32));
  it('genesis hash meets its target; equality passes, one more fails', () => {
    assert.ok(hashMeetsTarget(hashOf('000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f'), target));
    const equal = reverseBytes(targetToBytes(target));
    assert.ok(hashMeetsTarget(equal, target));
    assert.equal(hashToBigInt(equal), target);
    const above = reverseBytes(targetToBytes(target + 1n));
    assert.equal(hashMeetsTarget(above, target), false);
  });
  it('reads the hash little-endian: a high first byte is a low number', () => {
    const h = new Uint8Array(32);
    h[0] = 0xff;
    assert.equal(hashToBigInt(h), 0xffn);
    assert.ok(hashMeetsTarget(h, 0xffn));
    assert.equal(hashMeetsTarget(h, 0xfen), false);
  });
  it('rejects a hash that is not 32 bytes', () => {
    assert.throws(() => hashMeetsTarget(new Uint8Array(31), target), { message: 'hash: expected 32 bytes, got 31' });
  });
});

describe('difficulty', { timeout: 60_000 }, () => {
  it('difficulty-1 target is 0x00000000ffff0000…', () => {
    assert.equal(DIFF1_TARGET, bitsToTarget(0x1d00ffff));
    assert.equal(targetToDifficulty(DIFF1_TARGET), 1);
  });
  it('share difficulty of a hash', () => {
    const genesis = reverseBytes(hexToBytes('000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f'));
    const d = hashDifficulty(genesis);
    // Independent: DIFF1 / hash with bigint arithmetic at 10^-9 precision.
    const exact = Number((DIFF1_TARGET * 10n ** 9n) / hashToBigInt(genesis)) / 1e9;
    assert.ok(Math.abs(d - exact) < 1e-9, `${d} vs ${exact}`);
    assert.ok(d > 2536.42 && d < 2536.43);
    assert.equal(hashDifficulty(new Uint8Array(32)), Infinity);
    assert.equal(hashDifficulty(reverseBytes(targetToBytes(DIFF1_TARGET))), 1);
  });
  it('difficultyToTarget inverts targetToDifficulty', () => {
    assert.equal(difficultyToTarget(1), DIFF1_TARGET);
    assert.equal(difficultyToTarget(0.5), DIFF1_TARGET * 2n);
    assert.equal(difficultyToTarget(65536), DIFF1_TARGET / 65536n);
    const t = difficultyToTarget(0.001);
    assert.ok(Math.abs(targetToDifficulty(t) - 0.001) < 1e-15);
    assert.equal(difficultyToTarget(1e-80), (1n << 256n) - 1n, 'capped at 2^256-1');
    assert.throws(() => difficultyToTarget(0), OutOfRangeError);
    assert.throws(() => difficultyToTarget(Number.NaN), OutOfRangeError);
    assert.throws(() => difficultyToTarget(1e80), OutOfRangeError);
  });
  it('targetFromHex reads display-order targets', () => {
    assert.equal(targetFromHex('00000000ffff0000000000000000000000000000000000000000000000000000'), DIFF1_TARGET);
    assert.throws(() => targetFromHex('00'), { name: 'HexError' });
    assert.throws(() => targetFromHex('0'.repeat(64)), OutOfRangeError);
  });
});
