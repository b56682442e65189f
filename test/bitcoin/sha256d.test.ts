// SHA-256 (FIPS 180-4) and SHA-256d: known answers and a cross-check against the plain
// TypeScript SHA-256 in _support (an independent path from node:crypto/OpenSSL).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { bytesToHex, LengthError, sha256, sha256d } from '../../src/bitcoin/index.js';
import { refSha256, refSha256d } from './_support/independent.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('sha256 (FIPS 180-4 known answers)', { timeout: 60_000 }, () => {
  const vectors: [string, string][] = [
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    [
      'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    ],
  ];
  for (const [msg, digest] of vectors) {
    it(`sha256(${JSON.stringify(msg)})`, () => {
      assert.equal(bytesToHex(sha256(utf8(msg))), digest);
      assert.equal(bytesToHex(refSha256(utf8(msg))), digest);
    });
  }
  it('sha256 of one million "a"', () => {
    const msg = new Uint8Array(1_000_000).fill(0x61);
    assert.equal(bytesToHex(sha256(msg)), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });
});

describe('sha256d', { timeout: 60_000 }, () => {
  it('is sha256 applied twice ("hello")', () => {
    // Known answer, e.g. from Bitcoin wiki "Protocol documentation".
    assert.equal(
      bytesToHex(sha256d(utf8('hello'))),
      '9595c9df90075148eb06860365df33584b75bff782a510c6cd4883a419833d50',
    );
  });
  it('agrees with the independent implementation on random inputs of every length 0..300', () => {
    for (let len = 0; len <= 300; len++) {
      const msg = new Uint8Array(randomBytes(len));
      assert.deepEqual(sha256d(msg), refSha256d(msg), `length ${len}`);
    }
  });
  it('hashes a subarray view, not its whole buffer', () => {
    const buf = new Uint8Array(randomBytes(100));
    assert.deepEqual(sha256d(buf.subarray(10, 90)), refSha256d(buf.slice(10, 90)));
  });
  it('rejects non-bytes with a typed error', () => {
    assert.throws(() => sha256d('abc' as unknown as Uint8Array), {
      name: 'LengthError',
      message: 'sha256d/data: expected Uint8Array, got string',
    });
    assert.throws(() => sha256(null as unknown as Uint8Array), LengthError);
  });
});
