// 80-byte block header serialization and block hash: genesis and mainnet block 125552.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bitsFromHex,
  bitsToTarget,
  blockHash,
  bytesToHex,
  hashMeetsTarget,
  headerHash,
  hexToBytes,
  parseHeader,
  reverseBytes,
  serializeHeader,
  withNonce,
  withVersion,
  type HeaderFields,
} from '../../src/bitcoin/index.js';
import { fixture, refSha256d } from './_support/independent.js';

interface KnownHeader {
  name: string;
  version: number;
  prevHash: string;
  merkleRoot: string;
  time: number;
  bits: string;
  nonce: number;
  hash: string;
  serialized?: string;
}
const { headers } = fixture<{ headers: KnownHeader[] }>('blocks.json');

function fields(h: KnownHeader): HeaderFields {
  return {
    version: h.version,
    // Fixture hashes are in display order; the header carries internal order.
    prevHash: reverseBytes(hexToBytes(h.prevHash, 'prevHash', 32)),
    merkleRoot: reverseBytes(hexToBytes(h.merkleRoot, 'merkleRoot', 32)),
    time: h.time,
    bits: bitsFromHex(h.bits),
    nonce: h.nonce,
  };
}

describe('block header known answers', { timeout: 60_000 }, () => {
  for (const h of headers) {
    it(`${h.name} hashes to ${h.hash}`, () => {
      const header = serializeHeader(fields(h));
      assert.equal(header.length, 80);
      if (h.serialized) assert.equal(bytesToHex(header), h.serialized);
      assert.equal(blockHash(header), h.hash);
      assert.equal(bytesToHex(reverseBytes(refSha256d(header))), h.hash, 'independent SHA-256d');
      assert.ok(hashMeetsTarget(headerHash(header), bitsToTarget(fields(h).bits)), 'meets its own target');
      assert.deepEqual(parseHeader(header), fields(h));
      assert.equal(hashMeetsTarget(headerHash(withNonce(header, (h.nonce + 1) >>> 0)), bitsToTarget(fields(h).bits)), false);
    });
  }
});

describe('header fields', { timeout: 60_000 }, () => {
  const base = fields(headers[0]!);
  it('serializes version as 32-bit two\'s complement and parses it back unsigned', () => {
    const header = serializeHeader({ ...base, version: -1 });
    assert.equal(bytesToHex(header.subarray(0, 4)), 'ffffffff');
    assert.equal(parseHeader(header).version, 0xffffffff);
    assert.equal(bytesToHex(serializeHeader({ ...base, version: 0x20000000 }).subarray(0, 4)), '00000020');
  });
  it('withNonce replaces the last 4 bytes only', () => {
    const header = serializeHeader(base);
    const next = withNonce(header, 0x01020304);
    assert.equal(bytesToHex(next.subarray(76)), '04030201');
    assert.deepEqual(next.subarray(0, 76), header.subarray(0, 76));
  });
  it('withVersion replaces the first 4 bytes only (BIP320: a rolled version), little-endian and unsigned', () => {
    const header = serializeHeader(base);
    const rolled = withVersion(header, 0x3fffe004);
    assert.equal(bytesToHex(rolled.subarray(0, 4)), '04e0ff3f');
    assert.deepEqual(rolled.subarray(4), header.subarray(4));
    assert.equal(parseHeader(withVersion(header, -1)).version, 0xffffffff);
    assert.throws(() => withVersion(header.subarray(0, 79), 1), { name: 'LengthError', message: 'header: expected 80 bytes, got 79' });
  });
  it('rejects malformed fields, naming them', () => {
    assert.throws(() => serializeHeader({ ...base, prevHash: new Uint8Array(31) }), {
      name: 'LengthError',
      message: 'header/prevHash: expected 32 bytes, got 31',
    });
    assert.throws(() => serializeHeader({ ...base, time: -5 }), {
      name: 'OutOfRangeError',
      message: 'header/time: expected an integer 0..2^32-1, got -5',
    });
    assert.throws(() => serializeHeader({ ...base, nonce: 2 ** 32 }), { message: 'header/nonce: expected an integer 0..2^32-1, got 4294967296' });
    assert.throws(() => parseHeader(new Uint8Array(81)), { message: 'header: expected 80 bytes, got 81' });
    assert.throws(() => blockHash(new Uint8Array(79)), { name: 'LengthError' });
  });
});
