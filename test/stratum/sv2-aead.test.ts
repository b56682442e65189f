// Stratum V2's cipher, ChaCha20-Poly1305, as the addon does it (native/noise/chacha20poly1305.h):
// RFC 8439's own vectors for ChaCha20 (§2.4.2), Poly1305 (§2.5.2 and Appendix A.3's edge cases
// of the final reduction) and the AEAD (§2.8.2); the same bytes as node:crypto on random keys,
// Noise counters, associated data and lengths around every block size; several pieces sealed in
// one call equal to one call each; frames queued and flushed together equal to frames sealed one
// by one (a channel id stamped on a shared payload, a payload over 65,519 bytes).
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes, randomInt } from 'node:crypto';
import { describe, it } from 'node:test';

import { nativeAddon } from '../../src/native/addon.js';
import { NoiseError } from '../../src/stratum/v2/errors.js';
import { FrameReader, FrameWriter, MAX_PT_LEN } from '../../src/stratum/v2/frames.js';
import { encodeMessage, MessageType } from '../../src/stratum/v2/messages.js';
import { CipherState, MAC_SIZE } from '../../src/stratum/v2/noise.js';

const h = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const EMPTY = new Uint8Array(0);
const SUNSCREEN = Buffer.from("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.", 'ascii');

/** The Noise nonce (sv2-spec §4.4.1): 4 zero bytes, then the counter as 64-bit little-endian. */
function noiseNonce(n: number): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64LE(BigInt(n), 4);
  return nonce;
}

/** node:crypto's ChaCha20-Poly1305: ciphertext ‖ tag. */
function reference(key: Uint8Array, n: number, ad: Uint8Array, plaintext: Uint8Array): Buffer {
  const c = createCipheriv('chacha20-poly1305', key, noiseNonce(n), { authTagLength: 16 });
  if (ad.length > 0) c.setAAD(ad, { plaintextLength: plaintext.length });
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
}

describe('ChaCha20-Poly1305 (RFC 8439) in the addon', { timeout: 60_000 }, () => {
  const addon = nativeAddon();
  /** One whole buffer (ciphertext ‖ tag) opened into another. */
  const open = (key: Uint8Array, n: number, ad: Uint8Array, sealed: Uint8Array, out: Uint8Array) => addon.aeadOpen(key, n, ad, sealed, 0, sealed.length, out, 0);

  it('ChaCha20: the §2.4.2 example (114 bytes from block counter 1)', () => {
    const out = Buffer.alloc(SUNSCREEN.length);
    addon.chacha20(h('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'), 1, h('000000000000004a00000000'), SUNSCREEN, out);
    assert.equal(
      out.toString('hex'),
      '6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0bf91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8' +
        '07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab77937365af90bbf74a35be6b40b8eedf2785e42874d',
    );
  });

  it('Poly1305: the §2.5.2 example and Appendix A.3 vectors #5-#11 (the reductions past 2^130 - 5)', () => {
    const zero = '00'.repeat(16);
    const vectors: [string, string, string][] = [
      ['85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b', Buffer.from('Cryptographic Forum Research Group').toString('hex'), 'a8061dc1305136c6c22b8baf0c0127a9'],
      [`02${'00'.repeat(15)}${zero}`, 'ff'.repeat(16), `03${'00'.repeat(15)}`],
      [`02${'00'.repeat(15)}${'ff'.repeat(16)}`, `02${'00'.repeat(15)}`, `03${'00'.repeat(15)}`],
      [`01${'00'.repeat(15)}${zero}`, `${'ff'.repeat(16)}f0${'ff'.repeat(15)}11${'00'.repeat(15)}`, `05${'00'.repeat(15)}`],
      [`01${'00'.repeat(15)}${zero}`, `${'ff'.repeat(16)}fb${'fe'.repeat(15)}${'01'.repeat(16)}`, zero],
      [`02${'00'.repeat(15)}${zero}`, `fd${'ff'.repeat(15)}`, `fa${'ff'.repeat(15)}`],
      [`0100000000000000040000000000000000${'00'.repeat(15)}`, `e33594d7505e43b9${'00'.repeat(8)}3394d7505e4379cd01${'00'.repeat(7)}${zero}01${'00'.repeat(15)}`, '14000000000000005500000000000000'],
      [`0100000000000000040000000000000000${'00'.repeat(15)}`, `e33594d7505e43b9${'00'.repeat(8)}3394d7505e4379cd01${'00'.repeat(7)}${zero}`, `13${'00'.repeat(15)}`],
    ];
    for (const [key, message, tag] of vectors) {
      const out = Buffer.alloc(16);
      addon.poly1305(h(key), h(message), out);
      assert.equal(out.toString('hex'), tag, `key ${key}`);
    }
  });

  it('the AEAD: the §2.8.2 example sealed and opened; a changed bit of ciphertext, tag or AD refused', () => {
    const key = h('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
    const ad = h('50515253c0c1c2c3c4c5c6c7');
    // The example's nonce is 07000000 ‖ 4041424344454647: not a Noise nonce (4 zero bytes first),
    // so the vector goes through the primitives' composition exactly as §2.8 defines it.
    const nonce = h('070000004041424344454647');
    const expected = h(
      'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36' +
        '92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116',
    );
    const ct = Buffer.alloc(SUNSCREEN.length);
    addon.chacha20(key, 1, nonce, SUNSCREEN, ct);
    assert.deepEqual(ct, expected);
    const block0 = Buffer.alloc(64);
    addon.chacha20(key, 0, nonce, Buffer.alloc(64), block0);
    const pad = (n: number) => Buffer.alloc((16 - (n % 16)) % 16);
    const lengths = Buffer.alloc(16);
    lengths.writeBigUInt64LE(BigInt(ad.length), 0);
    lengths.writeBigUInt64LE(BigInt(ct.length), 8);
    const tag = Buffer.alloc(16);
    addon.poly1305(block0.subarray(0, 32), Buffer.concat([ad, pad(ad.length), ct, pad(ct.length), lengths]), tag);
    assert.equal(tag.toString('hex'), '1ae10b594f09e26a7e902ecbd0600691');

    // The sealing call itself, under a Noise nonce, against node:crypto; then opening.
    const sealed = Buffer.alloc(SUNSCREEN.length + 16);
    addon.aeadSeal(key, 7, ad, SUNSCREEN, Uint32Array.of(SUNSCREEN.length), sealed);
    assert.deepEqual(sealed, reference(key, 7, ad, SUNSCREEN));
    const back = Buffer.alloc(SUNSCREEN.length);
    assert.equal(open(key, 7, ad, sealed, back), true);
    assert.deepEqual(back, SUNSCREEN);
    for (const at of [0, 50, SUNSCREEN.length, sealed.length - 1]) {
      const bad = Buffer.from(sealed);
      bad[at]! ^= 0x01;
      const untouched = Buffer.alloc(SUNSCREEN.length);
      assert.equal(open(key, 7, ad, bad, untouched), false, `byte ${at} changed`);
      assert.ok(untouched.equals(Buffer.alloc(SUNSCREEN.length)), 'nothing is written when the tag fails');
    }
    const badAd = Buffer.from(ad);
    badAd[3]! ^= 0x80;
    assert.equal(open(key, 7, badAd, sealed, back), false);
    assert.equal(open(key, 8, ad, sealed, back), false, 'another counter');
  });

  it('the same bytes as node:crypto on random keys, counters, associated data and lengths', () => {
    const lengths = [0, 1, 6, 15, 16, 17, 63, 64, 65, 127, 128, 129, 255, 256, 600, 1000, 4096, 65519];
    for (let i = 0; i < 600; i++) {
      const key = randomBytes(32);
      const n = i % 3 === 0 ? randomInt(0, 2 ** 32) : i % 3 === 1 ? randomInt(2 ** 32, 2 ** 48) : Number.MAX_SAFE_INTEGER - randomInt(0, 1000);
      const ad = i % 4 === 0 ? randomBytes(randomInt(0, 100)) : EMPTY;
      const pt = randomBytes(i < lengths.length ? lengths[i]! : randomInt(0, 2000));
      const out = Buffer.alloc(pt.length + 16);
      assert.equal(addon.aeadSeal(key, n, ad, pt, Uint32Array.of(pt.length), out), 1);
      assert.deepEqual(out, reference(key, n, ad, pt), `length ${pt.length}, counter ${n}, ad ${ad.length}`);
      const back = Buffer.alloc(pt.length);
      assert.equal(open(key, n, ad, out, back), true);
      assert.deepEqual(back, pt);
    }
  });

  it('pieces sealed in one call: each under the next nonce, as one call each would', () => {
    for (let i = 0; i < 100; i++) {
      const key = randomBytes(32);
      const n = randomInt(0, 2 ** 40);
      const pieces = Array.from({ length: randomInt(1, 7) }, () => randomBytes(randomInt(0, 300)));
      const input = Buffer.concat(pieces);
      const ends = new Uint32Array(pieces.length);
      pieces.reduce((end, p, k) => (ends[k] = end + p.length), 0);
      const out = Buffer.alloc(input.length + 16 * pieces.length);
      assert.equal(addon.aeadSeal(key, n, EMPTY, input, ends, out), pieces.length);
      assert.deepEqual(out, Buffer.concat(pieces.map((p, k) => reference(key, n + k, EMPTY, p))));
    }
  });

  it('refuses what does not fit: a counter past 2^53 - 1, a key not of 32 bytes, pieces that do not cover the input, a short output', () => {
    const key = randomBytes(32);
    const pt = randomBytes(10);
    const out = Buffer.alloc(26);
    assert.throws(() => addon.aeadSeal(key, 2 ** 53, EMPTY, pt, Uint32Array.of(10), out), /counter: expected an integer/);
    assert.throws(() => addon.aeadSeal(key, -1, EMPTY, pt, Uint32Array.of(10), out), /counter/);
    assert.throws(() => addon.aeadSeal(key, 0.5, EMPTY, pt, Uint32Array.of(10), out), /counter/);
    assert.throws(() => addon.aeadSeal(key.subarray(1), 0, EMPTY, pt, Uint32Array.of(10), out), /key: expected 32 bytes/);
    assert.throws(() => addon.aeadSeal(key, 0, EMPTY, pt, Uint32Array.of(9), out), /ends/);
    assert.throws(() => addon.aeadSeal(key, 0, EMPTY, pt, Uint32Array.of(8, 4, 10), Buffer.alloc(58)), /increasing/);
    assert.throws(() => addon.aeadSeal(key, 0, EMPTY, pt, Uint32Array.of(10), Buffer.alloc(25)), /out: expected/);
    assert.throws(() => open(key, 0, EMPTY, Buffer.alloc(15), Buffer.alloc(0)), /16-byte tag/);
    assert.throws(() => addon.aeadOpen(key, 0, EMPTY, Buffer.alloc(40), 30, 20, Buffer.alloc(4), 0), /inside input/, 'a piece past the end of input');
    assert.throws(() => addon.aeadOpen(key, 0, EMPTY, Buffer.alloc(40), 0, 20, Buffer.alloc(4), 1), /room for its plaintext/);
    const shared = Buffer.alloc(64);
    assert.throws(() => addon.aeadOpen(key, 0, EMPTY, shared, 0, 20, shared, 8), /not to overlap/);
    assert.throws(() => addon.aeadOpen(key, 0, EMPTY, shared, -1, 20, Buffer.alloc(4), 0), /inputOffset/);
  });

  it('a piece opened where it lies in a larger buffer, into a larger buffer at an offset', () => {
    const key = randomBytes(32);
    const pt = randomBytes(100);
    const sealed = reference(key, 3, EMPTY, pt);
    const stream = Buffer.concat([randomBytes(13), sealed, randomBytes(7)]);
    const out = Buffer.alloc(120, 0xaa);
    assert.equal(addon.aeadOpen(key, 3, EMPTY, stream, 13, sealed.length, out, 9), true);
    assert.deepEqual(out.subarray(9, 109), pt);
    assert.ok(out.subarray(0, 9).every((b) => b === 0xaa) && out.subarray(109).every((b) => b === 0xaa), 'nothing outside its place is written');
    stream[13 + 50]! ^= 4;
    assert.equal(addon.aeadOpen(key, 3, EMPTY, stream, 13, sealed.length, out, 9), false);
    assert.ok(out.subarray(9, 109).every((b) => b === 0), 'a failed open leaves zeros, never unauthenticated plaintext');
  });

  it('CipherState: encryptPieces continues the counter as encryptWithAd does; a failed MAC leaves it where it was', () => {
    const key = randomBytes(32);
    const one = new CipherState(key);
    const batch = new CipherState(key);
    const pieces = [randomBytes(6), randomBytes(600), randomBytes(6), randomBytes(60)];
    const expected = Buffer.concat(pieces.map((p) => one.encryptWithAd(EMPTY, p)));
    const out = Buffer.alloc(expected.length);
    batch.encryptPieces(Buffer.concat(pieces), Uint32Array.of(6, 606, 612, 672), out);
    assert.deepEqual(out, expected);
    assert.equal(batch.counter, 4);
    assert.deepEqual(batch.encryptWithAd(EMPTY, Buffer.from('next')), one.encryptWithAd(EMPTY, Buffer.from('next')));

    const rx = new CipherState(key);
    const first = out.subarray(0, 6 + MAC_SIZE);
    const bad = Buffer.from(first);
    bad[0]! ^= 1;
    assert.throws(() => rx.decryptWithAd(EMPTY, bad), NoiseError);
    assert.equal(rx.counter, 0);
    assert.deepEqual(rx.decryptWithAd(EMPTY, first), pieces[0]);
  });

  it('FrameWriter: frames queued and flushed in one buffer are the frames sealed one by one; a channel id stamped on a shared payload', () => {
    const key = randomBytes(32);
    const shared = encodeMessage({
      type: MessageType.NewExtendedMiningJob, channelId: 0, jobId: 5, minNtime: undefined, version: 0x20000000, versionRollingAllowed: true,
      merklePath: [randomBytes(32)], coinbaseTxPrefix: randomBytes(80), coinbaseTxSuffix: randomBytes(120),
    });
    const ownCopy = Buffer.from(shared);
    ownCopy.writeUInt32LE(42, 0);
    const prev = { type: MessageType.SetNewPrevHash, channelId: 42, jobId: 5, prevHash: randomBytes(32), minNtime: 1_700_000_000, nbits: 0x1d00ffff } as const;
    const big = randomBytes(MAX_PT_LEN * 2 + 100);

    const single = new FrameWriter(new CipherState(key));
    const expected = Buffer.concat([single.frame(0x8000, MessageType.NewExtendedMiningJob, ownCopy), single.message(prev), single.frame(0, 0x7f, big), single.frame(0, 0x01, EMPTY)]);

    const batched = new FrameWriter(new CipherState(key));
    batched.queue(0x8000, MessageType.NewExtendedMiningJob, shared, 42);
    batched.queueMessage(prev);
    batched.queue(0, 0x7f, big);
    batched.queue(0, 0x01, EMPTY);
    assert.equal(batched.pending, 4);
    const flushed = batched.flush();
    assert.deepEqual(flushed, expected);
    assert.equal(batched.pending, 0);
    assert.equal(batched.flush(), undefined, 'nothing queued, nothing written');
    assert.equal(shared.readUInt32LE(0), 0, 'the shared payload itself is not changed');

    const reader = new FrameReader(new CipherState(key), 1 << 20);
    const frames = reader.push(flushed!);
    assert.deepEqual(frames.map((f) => [f.extensionType, f.msgType, f.payload.length]), [[0x8000, MessageType.NewExtendedMiningJob, shared.length], [0x8000, MessageType.SetNewPrevHash, 48], [0, 0x7f, big.length], [0, 0x01, 0]]);
    assert.deepEqual(frames[0]!.payload, ownCopy);
    assert.deepEqual(frames[2]!.payload, big);
    assert.throws(() => batched.queue(0x8000, 0x20, Buffer.alloc(3), 1), /channel_id: expected a payload of at least 4 bytes/);
  });
});
