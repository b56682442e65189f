// BIP320: general-purpose version bits 13..28 (mask 0x1fffe000) for version rolling.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BIP320_VERSION_MASK,
  depositBits,
  OutOfRangeError,
  poolRolling,
  rolledVersion,
  rolledVersions,
  rollVersion,
  templateRolling,
  versionsInMask,
} from '../../src/bitcoin/index.js';

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

describe('version sets for the engines (software AsicBoost)', { timeout: 60_000 }, () => {
  it('deposits an index into the set bits of a mask, lowest first', () => {
    assert.equal(depositBits(0, BIP320_VERSION_MASK), 0);
    assert.equal(depositBits(1, BIP320_VERSION_MASK), 0x2000);
    assert.equal(depositBits(0b101, BIP320_VERSION_MASK), 0xa000);
    assert.equal(depositBits(0xffff, BIP320_VERSION_MASK), BIP320_VERSION_MASK);
    assert.equal(depositBits(0b11, 0x00100100), 0x00100100);
    assert.equal(depositBits(0b10, 0x00100100), 0x00100000);
  });
  it('rolls K distinct versions, the base first, changing only bits of the mask', () => {
    const versions = rolledVersions(0x20000004, BIP320_VERSION_MASK, 16);
    assert.equal(versions[0], 0x20000004);
    assert.equal(new Set(versions).size, 16);
    for (const v of versions) assert.equal((v & ~BIP320_VERSION_MASK) >>> 0, 0x20000004);
    // Every version a 4-bit roll can make is there: rollVersion agrees with the set.
    for (let i = 0; i < 16; i++) assert.ok(versions.includes(rollVersion(0x20000004, i << 13)));
    // A base with rolled bits already (a Stratum job) flips them: still distinct, still in the mask.
    const fromRolled = rolledVersions(0x3fffe000, BIP320_VERSION_MASK, 4);
    assert.deepEqual(fromRolled, [0x3fffe000, 0x3fffc000, 0x3fffa000, 0x3fff8000]);
  });
  it('counts the versions a mask allows and refuses more', () => {
    assert.equal(versionsInMask(BIP320_VERSION_MASK, 16), 16);
    assert.equal(versionsInMask(0x6000, 16), 4);
    assert.equal(versionsInMask(0, 16), 1);
    assert.throws(() => rolledVersions(0x20000000, 0x6000, 5), /version\/count: expected an integer 1..4 \(the mask has 2 bits\), got 5/);
    assert.throws(() => rolledVersion(0x20000000, 0x6000, 4), OutOfRangeError);
  });
  it('a template may roll all of BIP320 unless its version or a tracked deployment uses the bits', () => {
    assert.deepEqual(templateRolling(0x20000000), { mask: BIP320_VERSION_MASK });
    assert.deepEqual(templateRolling(0x20000004, [2]), { mask: BIP320_VERSION_MASK }, 'a deployment on bit 2 is outside the mask');
    // Regtest's testdummy signals on bit 28 from height 144 until it activates.
    const signalling = templateRolling(0x30000000, [28]);
    assert.equal(signalling.mask, 0);
    assert.match(signalling.reason!, /version 30000000 sets bit 28 inside BIP320's mask 1fffe000/);
    const tracked = templateRolling(0x20000000, [13, 27]);
    assert.equal(tracked.mask, 0x17ffc000);
    assert.match(tracked.reason!, /bits 13, 27 of BIP320's mask belong to a deployment the node tracks/);
    const old = templateRolling(4);
    assert.equal(old.mask, 0);
    assert.match(old.reason!, /not a BIP9 version/);
  });
  it('a pool must grant all of BIP320 (BIP310): none or a narrower mask is no rolling, with the reason', () => {
    assert.deepEqual(poolRolling(0x1fffe000), { mask: BIP320_VERSION_MASK });
    assert.deepEqual(poolRolling(0xffffffff), { mask: BIP320_VERSION_MASK }, 'only BIP320 bits are rolled even if more are granted');
    assert.match(poolRolling(0).reason!, /granted no version-rolling mask/);
    assert.equal(poolRolling(0x00ffe000).mask, 0);
    assert.match(poolRolling(0x00ffe000).reason!, /granted the mask 00ffe000, narrower than BIP320's 1fffe000/);
  });
});
