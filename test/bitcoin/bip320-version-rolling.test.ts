// BIP320: general-purpose version bits 13..28 (mask 0x1fffe000) for version rolling.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BIP320_VERSION_MASK, OutOfRangeError, rollVersion } from '../../src/bitcoin/index.js';

describe('BIP320 version rolling', { timeout: 60_000 }, () => {
  it('the mask is bits 13..28', () => {
    let mask = 0;
    for (let bit = 13; bit <= 28; bit++) mask |= 1 << bit;
    assert.equal(BIP320_VERSION_MASK, mask >>> 0);
    assert.equal(BIP320_VERSION_MASK, 0x1fffe000);
  });
  it('keeps the BIP9 top bits and the low signalling bits of the base version', () => {
    assert.equal(rollVersion(0x20000000, 0xffffffff), 0x3fffe000);
    assert.equal(rollVersion(0x20000004, 0x00002000), 0x20002004);
    assert.equal(rollVersion(0x20000000, 0), 0x20000000);
    assert.equal(rollVersion(0x3fffe000, 0), 0x20000000);
    assert.equal(rollVersion(0x20000000, 0xe0001fff), 0x20000000, 'bits outside the mask are ignored');
  });
  it('accepts a custom (negotiated) mask and rejects out-of-range input', () => {
    assert.equal(rollVersion(0x20000000, 0xffffffff, 0x00ff0000), 0x20ff0000);
    assert.throws(() => rollVersion(0x20000000, -1), OutOfRangeError);
    assert.throws(() => rollVersion(2 ** 32, 0), OutOfRangeError);
  });
});
