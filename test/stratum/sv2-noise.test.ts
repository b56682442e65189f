// Stratum V2's cryptography against the fixed vectors that exist (sv2-spec §4): the authority
// key example of §4.7.1, SHA-256 of the protocol name, BIP324's ElligatorSwift decoding and x-only
// ECDH vectors (test/fixtures/sv2, extracted from BIP324's own CSVs), then the handshake both ways,
// its failures (a wrong authority key, an altered byte, an expired certificate), the Noise nonce
// (4 zero bytes ‖ 64-bit little-endian counter) and a transcript with fixed keys that is the same
// byte for byte every time.
import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { schnorr } from '@noble/curves/secp256k1.js';

import { loadOrCreateAuthority, ServerIdentity } from '../../src/stratum/v2/authority.js';
import { scratchDir } from '../support/mining.js';
import { decodeAuthorityKey, encodeAuthorityKey, parseCertificate, signCertificate, verifyCertificate } from '../../src/stratum/v2/certificate.js';
import { AuthorityKeyError, NoiseError } from '../../src/stratum/v2/errors.js';
import {
  ACT2_SIZE,
  CipherState,
  decodeEllswift,
  ellswiftKeyOf,
  generateEllswiftKey,
  hkdf2,
  NoiseInitiator,
  protocolNameHash,
  StaticKey,
  v2Ecdh,
  xOnlyPublicKey,
  type EllswiftKey,
} from '../../src/stratum/v2/noise.js';

function csv(name: string): Record<string, string>[] {
  const text = readFileSync(new URL(`../../../test/fixtures/sv2/${name}`, import.meta.url), 'utf8');
  const [head, ...rows] = text.trim().split('\n');
  const keys = head!.split(',');
  return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [keys[i]!, v])));
}
const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const EMPTY = new Uint8Array(0);

/** A key whose ElligatorSwift encoding is fixed (what a recorded transcript needs). */
function fixedKey(seed: number): EllswiftKey {
  const secret = createHash('sha256').update(`sv2 test key ${seed}`).digest();
  return ellswiftKeyOf(secret);
}

describe('Stratum V2 fixed vectors', { timeout: 60_000 }, () => {
  it('§4.7.1: the authority key example encodes to the spec\'s base58check text and back', () => {
    const raw = Uint8Array.from([118, 99, 112, 0, 151, 156, 28, 17, 175, 12, 48, 11, 205, 140, 127, 228, 134, 16, 252, 233, 185, 193, 30, 61, 174, 227, 90, 224, 176, 138, 116, 85]);
    assert.equal(encodeAuthorityKey(raw), '9bXiEd8boQVhq7WddEcERUL5tyyJVFYdU8th3HfbNXK3Yw6GRXh');
    assert.deepEqual(decodeAuthorityKey('9bXiEd8boQVhq7WddEcERUL5tyyJVFYdU8th3HfbNXK3Yw6GRXh'), raw);
  });

  it('an authority key with a typo, another version or no curve point is refused with the reason', () => {
    const good = '9bXiEd8boQVhq7WddEcERUL5tyyJVFYdU8th3HfbNXK3Yw6GRXh';
    assert.throws(() => decodeAuthorityKey(good.replace('9bX', '9bY')), (e: unknown) => e instanceof AuthorityKeyError && /checksum/.test((e as Error).message));
    assert.throws(() => decodeAuthorityKey(good.slice(0, -1)), AuthorityKeyError);
    // Version [2, 0] and a valid checksum: the version is named.
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest();
    const body = Buffer.concat([Buffer.from([2, 0]), Buffer.from(decodeAuthorityKey(good))]);
    const withSum = Buffer.concat([body, sha(sha(body)).subarray(0, 4)]);
    const b58 = encodeBase58(withSum);
    assert.throws(() => decodeAuthorityKey(b58), /expected version \[1, 0\], got \[2, 0\]/);
  });

  it('h = SHA-256("Noise_NX_Secp256k1+EllSwift_ChaChaPoly_SHA256")', () => {
    assert.equal(protocolNameHash().toString('hex'), '2eb47881208e9eee1f669f67c66ee70ea9ea88090d503fe830dc4bc83e29bf10');
  });

  it("BIP324's ElligatorSwift decoding vectors: every 64 bytes decode to the listed x", () => {
    const rows = csv('bip324-ellswift-decode.csv');
    assert.equal(rows.length, 76);
    for (const r of rows) assert.equal(Buffer.from(decodeEllswift(hex(r.ellswift!))).toString('hex'), r.x, r.ellswift);
  });

  it("BIP324's x-only ECDH vectors: our x, the shared x, and v2_ecdh's tagged hash for either role", () => {
    const rows = csv('bip324-xonly-ecdh.csv');
    assert.ok(rows.length >= 7);
    for (const r of rows) {
      const priv = hex(r.priv_ours!);
      assert.equal(Buffer.from(xOnlyPublicKey(priv)).toString('hex'), r.x_ours);
      assert.equal(Buffer.from(decodeEllswift(hex(r.ellswift_ours!))).toString('hex'), r.x_ours, 'our encoding stands for our key');
      const secret = v2Ecdh(priv, hex(r.ellswift_ours!), hex(r.ellswift_theirs!), r.initiating === '1');
      assert.equal(secret.toString('hex'), r.shared_secret);
    }
  });

  it('RFC 5869 HKDF as §4.4.2 writes it (two outputs, no info), against node:crypto', async () => {
    const { hkdfSync } = await import('node:crypto');
    const ck = createHash('sha256').update('ck').digest();
    const ikm = createHash('sha256').update('ikm').digest();
    const [a, b] = hkdf2(ck, ikm);
    const both = Buffer.from(hkdfSync('sha256', ikm, ck, EMPTY, 64));
    assert.deepEqual(Buffer.concat([a, b]), both);
  });
});

describe('Stratum V2 cipher state and handshake', { timeout: 60_000 }, () => {
  it('the nonce is 4 zero bytes then the counter little-endian (message 0, 1, 258)', () => {
    const key = createHash('sha256').update('k').digest();
    const c = new CipherState(key);
    const outs: Buffer[] = [];
    for (let i = 0; i < 259; i++) outs.push(c.encryptWithAd(EMPTY, Buffer.from('abc')));
    for (const n of [0, 1, 258]) {
      const nonce = Buffer.alloc(12);
      nonce.writeUInt32LE(n, 4);
      const raw = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
      const expected = Buffer.concat([raw.update('abc'), raw.final(), raw.getAuthTag()]);
      assert.deepEqual(outs[n], expected, `message ${n}`);
    }
  });

  it('a failed decryption leaves the counter where it was (§4.4.1)', () => {
    const key = createHash('sha256').update('k').digest();
    const tx = new CipherState(key);
    const rx = new CipherState(key);
    const first = tx.encryptWithAd(EMPTY, Buffer.from('one'));
    const bad = Buffer.from(first);
    bad[0]! ^= 1;
    assert.throws(() => rx.decryptWithAd(EMPTY, bad), NoiseError);
    assert.equal(rx.counter, 0);
    assert.equal(rx.decryptWithAd(EMPTY, first).toString(), 'one');
    // The same frame again (a replay) meets counter 1: refused.
    assert.throws(() => rx.decryptWithAd(EMPTY, first), /MAC does not verify/);
  });

  it('handshake: 64 bytes, then 234; both sides get the same keys; the certificate verifies', () => {
    const authority = schnorr.utils.randomSecretKey();
    const identity = new ServerIdentity({ authoritySecret: authority });
    const client = new NoiseInitiator();
    const act1 = client.start();
    assert.equal(act1.length, 64);
    const { reply, session: server } = identity.responder().respond(act1);
    assert.equal(reply.length, ACT2_SIZE);
    assert.equal(ACT2_SIZE, 234);
    const { session, server: id } = client.finish(reply);
    const cert = parseCertificate(id.signatureMessage);
    assert.equal(cert.version, 0);
    verifyCertificate(cert, id.staticKey, decodeAuthorityKey(identity.authorityKey), Math.floor(Date.now() / 1000));
    const up = session.send.encryptWithAd(EMPTY, Buffer.from('to the pool'));
    assert.equal(server.recv.decryptWithAd(EMPTY, up).toString(), 'to the pool');
    const down = server.send.encryptWithAd(EMPTY, Buffer.from('to the miner'));
    assert.equal(session.recv.decryptWithAd(EMPTY, down).toString(), 'to the miner');
  });

  it('a wrong authority key, an expired or not-yet-valid certificate are refused with the reason', () => {
    const authority = schnorr.utils.randomSecretKey();
    const server = new StaticKey(generateEllswiftKey());
    const cert = parseCertificate(signCertificate(authority, server.xOnly, 1000, 2000));
    const key = schnorr.getPublicKey(authority);
    verifyCertificate(cert, server.xOnly, key, 1500);
    verifyCertificate(cert, server.xOnly, key, 995); // within the 10 s leeway
    assert.throws(() => verifyCertificate(cert, server.xOnly, schnorr.getPublicKey(schnorr.utils.randomSecretKey()), 1500), /not the authority key's/);
    assert.throws(() => verifyCertificate(cert, xOnlyPublicKey(generateEllswiftKey().secret), key, 1500), /not the authority key's/);
    assert.throws(() => verifyCertificate(cert, server.xOnly, key, 2011), /expired at/);
    assert.throws(() => verifyCertificate(cert, server.xOnly, key, 989), /not valid before/);
  });

  it('any altered byte of act 2 fails the handshake (MAC), never a session with wrong keys', () => {
    const identity = new ServerIdentity({ authoritySecret: schnorr.utils.randomSecretKey() });
    for (const at of [70, 150, 233]) {
      const client = new NoiseInitiator();
      const { reply } = identity.responder().respond(client.start());
      const bad = Buffer.from(reply);
      bad[at]! ^= 0x80;
      assert.throws(() => client.finish(bad), NoiseError, `byte ${at}`);
    }
  });

  it('fixed keys give the same transcript byte for byte (what recorded transcripts replay)', () => {
    // ElligatorSwift encodings are random: a fixed key is a fixed pair of secret and encoding.
    const [staticKey, serverEphemeral, clientEphemeral] = [fixedKey(1), fixedKey(2), fixedKey(3)];
    const run = () => {
      const identity = new ServerIdentity({ authoritySecret: hex('11'.repeat(32)), staticKey, ephemeral: () => serverEphemeral, auxRand: new Uint8Array(32), nowSeconds: () => 1_800_000_000 });
      const client = new NoiseInitiator(clientEphemeral);
      const act1 = client.start();
      const { reply, session } = identity.responder().respond(act1);
      const frame = session.send.encryptWithAd(EMPTY, Buffer.from('x'));
      return Buffer.concat([act1, reply, frame]).toString('hex');
    };
    const first = run();
    assert.equal(first.length, (64 + 234 + 17) * 2);
    assert.equal(run(), first, 'the same keys: the same bytes');
    // Another server ephemeral: another transcript (the keys, not chance, fix it).
    const identity = new ServerIdentity({ authoritySecret: hex('11'.repeat(32)), staticKey, ephemeral: () => fixedKey(4), auxRand: new Uint8Array(32), nowSeconds: () => 1_800_000_000 });
    assert.notEqual(identity.responder().respond(new NoiseInitiator(clientEphemeral).start()).reply.toString('hex'), first.slice(128, 128 + 468));
  });
});

function encodeBase58(bytes: Uint8Array): string {
  const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
  let n = BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
  let out = '';
  while (n > 0n) {
    out = alphabet[Number(n % 58n)]! + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = `1${out}`;
  }
  return out;
}

describe('the authority key and the certificate over time', { timeout: 30_000 }, () => {
  it('made once (mode 0600), read back the same; a file that is not a key is refused, never replaced', async () => {
    const dir = await scratchDir();
    const path = join(dir, 'state', 'stratum-v2-authority-key.json');
    const first = await loadOrCreateAuthority(path);
    assert.equal(first.created, true);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const again = await loadOrCreateAuthority(path);
    assert.equal(again.created, false);
    assert.deepEqual(again.secret, first.secret);
    writeFileSync(path, '{"format":1,"secret":"zz"}\n');
    await assert.rejects(loadOrCreateAuthority(path), (e: unknown) => e instanceof AuthorityKeyError && /expected \{"format":1,"secret":<64 hex digits>\}; move it away/.test((e as Error).message));
    assert.equal(readFileSync(path, 'utf8'), '{"format":1,"secret":"zz"}\n', 'left as it was');
  });

  it('the certificate is valid from an hour back for a day, and signed again once half of that has passed', () => {
    let now = 1_800_000_000;
    const identity = new ServerIdentity({ authoritySecret: schnorr.utils.randomSecretKey(), nowSeconds: () => now });
    const key = identity.authorityPublicKey;
    const handshake = () => {
      const client = new NoiseInitiator();
      const { server } = client.finish(identity.responder().respond(client.start()).reply);
      return { cert: parseCertificate(server.signatureMessage), server };
    };
    const a = handshake();
    assert.deepEqual([a.cert.validFrom, a.cert.notValidAfter], [now - 3600, now + 86400]);
    verifyCertificate(a.cert, a.server.staticKey, key, now);
    now += 12 * 3600 - 10;
    assert.equal(handshake().cert.validFrom, a.cert.validFrom, 'the same certificate before half its window');
    now += 20;
    const b = handshake();
    assert.deepEqual([b.cert.validFrom, b.cert.notValidAfter], [now - 3600, now + 86400]);
    verifyCertificate(b.cert, b.server.staticKey, key, now + 20 * 3600);
    assert.deepEqual(b.server.staticKey, a.server.staticKey, 'the same static key, a new signature');
  });
});
