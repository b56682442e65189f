/**
 * The Noise handshake of Stratum V2 (sv2-spec §4, `Noise_NX_Secp256k1+EllSwift_ChaChaPoly_SHA256`)
 * and the two cipher states it yields. Both roles are here: the responder (the pool) and the
 * initiator (solominer's client, and the tests).
 *
 *   -> e                                       64 bytes: the initiator's ElligatorSwift key
 *   <- e, ee, s, es, SIGNATURE_NOISE_MESSAGE   234 bytes: 64 + (64 + MAC) + (74 + MAC)
 *
 * h = SHA-256(protocol name), ck = h, then MixHash of the empty prologue. ECDH is BIP324's
 * `v2_ecdh`: the x-only product tagged-hashed with both ElligatorSwift encodings, initiator's
 * first. HKDF is RFC 5869 with two outputs and no info (§4.4.2); the cipher is ChaCha20-Poly1305
 * (IETF) with the nonce = 4 zero bytes ‖ a 64-bit little-endian counter (§4.4.1).
 *
 * Libraries, and why each:
 * - ElligatorSwift encoding/decoding: `@scure/btc-signer/p2p.js` (the project's Bitcoin library,
 *   checked here against BIP324's own test vectors in test/stratum/sv2-noise.test.ts);
 * - the point multiplications (key generation, ECDH): `tiny-secp256k1`, bitcoinjs's build of
 *   libsecp256k1 (Bitcoin Core's curve library) to WebAssembly — the same code on every platform,
 *   constant-time products (`ec_pubkey_tweak_mul`), and ~3× faster than Node's OpenSSL, whose
 *   generic prime-curve code made each ECDH ~0.7 ms (the handshake's main cost; docs/stratum.md);
 * - BIP340 Schnorr (the certificate): `@noble/curves`, the audited curve library btc-signer uses;
 * - SHA-256, HMAC: Node's own (OpenSSL), no extra dependency;
 * - ChaCha20-Poly1305: the addon's (native/noise/), written for this project because node:crypto's
 *   per-message set-up, not the cipher, was most of the pool's CPU per frame (docs/stratum.md).
 *
 * Every key a handshake uses can be injected (static, ephemeral, the certificate's clock), so a
 * recorded transcript with fixed keys replays byte for byte.
 * @module
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';

import { elligatorSwift } from '@scure/btc-signer/p2p.js';
import { isPrivate, pointFromScalar, pointMultiply } from 'tiny-secp256k1';

import { nativeAddon } from '../../native/addon.js';
import { NoiseError } from './errors.js';

export const PROTOCOL_NAME = 'Noise_NX_Secp256k1+EllSwift_ChaChaPoly_SHA256';
export const MAC_SIZE = 16;
export const ELLSWIFT_SIZE = 64;
/** version U16, valid_from U32, not_valid_after U32, signature 64 (§4.5.2). */
export const SIGNATURE_NOISE_MESSAGE_SIZE = 74;
export const ACT1_SIZE = ELLSWIFT_SIZE;
export const ACT2_SIZE = ELLSWIFT_SIZE + ELLSWIFT_SIZE + MAC_SIZE + SIGNATURE_NOISE_MESSAGE_SIZE + MAC_SIZE;

const EMPTY = new Uint8Array(0);
/** The piece list of a single message (encryptWithAd), reused: the call is synchronous. */
const ONE_PIECE = new Uint32Array(1);
const ECDH_TAG = createHash('sha256').update('bip324_ellswift_xonly_ecdh').digest();

export function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

function hmac(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const m = createHmac('sha256', key);
  for (const p of parts) m.update(p);
  return m.digest();
}

/** HKDF(chaining_key, input_key_material) with two 32-byte outputs (§4.4.2). */
export function hkdf2(chainingKey: Uint8Array, ikm: Uint8Array): [Buffer, Buffer] {
  const temp = hmac(chainingKey, ikm);
  const out1 = hmac(temp, Uint8Array.of(1));
  const out2 = hmac(temp, out1, Uint8Array.of(2));
  return [out1, out2];
}

// --- keys ----------------------------------------------------------------------------------

/** A secp256k1 secret with its ElligatorSwift public encoding (§4.3.1.1). */
export interface EllswiftKey {
  readonly secret: Uint8Array;
  readonly ellswift: Uint8Array;
}

/** A fresh secret: 32 random bytes in 1..n-1 of secp256k1 (another draw otherwise, as §4.3.1.1). */
function randomSecret(): Uint8Array {
  for (;;) {
    const s = Uint8Array.from(randomBytes(32));
    if (isPrivate(s)) return s;
  }
}

/** The x-only public key of a secret (BIP340), or NoiseError. */
function xOnlyOf(secret: Uint8Array): Buffer {
  const point = secret.length === 32 && isPrivate(secret) ? pointFromScalar(secret, true) : null;
  if (point === null) throw new NoiseError('secret key', 'expected 32 bytes in 1..n-1 of secp256k1');
  return Buffer.from(point.subarray(1));
}

/** x(secret · lift_x(x)): BIP324's ellswift_ecdh_xonly once the peer's key is decoded (either y gives the same x). */
function xEcdh(secret: Uint8Array, x: Uint8Array): Buffer {
  let product: Uint8Array | null;
  try {
    product = pointMultiply(Buffer.concat([Uint8Array.of(2), x]), secret, true);
  } catch {
    product = null;
  }
  if (product === null) throw new NoiseError('ecdh', "the peer's key is not a point of secp256k1");
  return Buffer.from(product.subarray(1));
}

/** `secret` when it is 32 bytes in 1..n-1 of secp256k1, else NoiseError. */
function checkedSecret(secret: Uint8Array): Uint8Array {
  if (secret.length !== 32 || !isPrivate(secret)) throw new NoiseError('secret key', 'expected 32 bytes in 1..n-1 of secp256k1');
  return secret;
}

/** A secret with its x-only public key, computed once (a server's static key). */
class Secret {
  readonly xOnly: Buffer;
  constructor(readonly secret: Uint8Array) {
    this.xOnly = xOnlyOf(secret);
  }
}

/** The x coordinate an ElligatorSwift encoding stands for (every 64 bytes decode to one). */
export function decodeEllswift(ellswift: Uint8Array): Uint8Array {
  if (ellswift.length !== ELLSWIFT_SIZE) throw new NoiseError('ellswift', `expected ${ELLSWIFT_SIZE} bytes, got ${ellswift.length}`);
  try {
    return elligatorSwift.decode(ellswift);
  } catch (err) {
    // BIP324 maps every 64 bytes to a point; a library that disagrees is a refused handshake, not a crash.
    throw new NoiseError('ellswift', `cannot decode the key (${(err as Error).message})`);
  }
}

/** A random ElligatorSwift encoding of x(secret·G). */
function encodeX(xOnly: Uint8Array): Uint8Array {
  return elligatorSwift.encode(BigInt(`0x${Buffer.from(xOnly).toString('hex')}`));
}

/** A fresh key pair (§4.3.1.1 key generation). */
export function generateEllswiftKey(): EllswiftKey {
  const secret = randomSecret();
  return { secret, ellswift: encodeX(xOnlyOf(secret)) };
}

/** The pair of a given secret (its encoding is random: any of them stands for the same key). */
export function ellswiftKeyOf(secret: Uint8Array): EllswiftKey {
  return { secret: Uint8Array.from(secret), ellswift: encodeX(xOnlyOf(secret)) };
}

/**
 * A key pair fixed by `seed` and `label`, its encoding too: the secret is SHA-256(seed ‖ label),
 * the encoding's u the hash of the secret and a counter, tried until BIP324's inverse map takes
 * it (xswiftec_inv of the p2p module). For recorded transcripts and their replays only.
 */
export function deterministicEllswiftKey(seed: string, label: string): EllswiftKey {
  const secret = sha256(Buffer.from(`${seed}/${label}`, 'utf8'));
  const x = BigInt(`0x${xOnlyOf(secret).toString('hex')}`);
  const p = (1n << 256n) - (1n << 32n) - 977n;
  for (let i = 0; ; i++) {
    const h = sha256(secret, Buffer.from(`encoding ${i}`));
    const u = BigInt(`0x${h.toString('hex')}`) % p;
    if (u === 0n) continue;
    const t = elligatorSwift._inv(x, u, h[31]! & 7);
    if (t === undefined) continue;
    const ellswift = Buffer.concat([Buffer.from(u.toString(16).padStart(64, '0'), 'hex'), Buffer.from(t.toString(16).padStart(64, '0'), 'hex')]);
    return { secret: Uint8Array.from(secret), ellswift: Uint8Array.from(ellswift) };
  }
}

/** The BIP340 x-only public key of a secret. */
export function xOnlyPublicKey(secret: Uint8Array): Uint8Array {
  return Uint8Array.from(xOnlyOf(secret));
}

/**
 * BIP324 `v2_ecdh`: SHA-256(tag ‖ tag ‖ initiator's encoding ‖ responder's ‖ x-only product),
 * tag = SHA-256("bip324_ellswift_xonly_ecdh") (§4.4.2: not commutative, hence `initiating`).
 */
export function v2Ecdh(secret: Uint8Array, ours: Uint8Array, theirs: Uint8Array, initiating: boolean): Buffer {
  return tagged(secret, ours, theirs, initiating);
}

function tagged(secret: Uint8Array, ours: Uint8Array, theirs: Uint8Array, initiating: boolean, theirX = decodeEllswift(theirs)): Buffer {
  const x = xEcdh(secret, theirX);
  return initiating ? sha256(ECDH_TAG, ECDH_TAG, ours, theirs, x) : sha256(ECDH_TAG, ECDH_TAG, theirs, ours, x);
}

// --- cipher state --------------------------------------------------------------------------

/**
 * ChaCha20-Poly1305 with the Noise nonce: 4 zero bytes ‖ n as a 64-bit little-endian counter.
 * The cipher is the addon's (native/noise/chacha20poly1305.h): node:crypto's set-up of a cipher
 * object per message cost ~10× the cipher itself on frames of a few hundred bytes.
 */
export class CipherState {
  private n = 0;
  private readonly aead = nativeAddon();
  private readonly key: Uint8Array;

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new NoiseError('cipher key', `expected 32 bytes, got ${key.length}`);
    this.key = Uint8Array.from(key);
  }

  /** The counter of the next message (for tests and transcripts). */
  get counter(): number {
    return this.n;
  }

  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(plaintext.length + MAC_SIZE);
    ONE_PIECE[0] = plaintext.length;
    this.n += this.aead.aeadSeal(this.key, this.n, ad, plaintext, ONE_PIECE, out);
    return out;
  }

  /**
   * Several messages at once, without associated data: input[ends[i-1]..ends[i]) sealed under
   * the next nonces in turn, each written to `out` as ciphertext ‖ MAC (input's length + 16
   * bytes a piece). What encryptWithAd(EMPTY, piece) on each piece in turn would give.
   */
  encryptPieces(input: Uint8Array, ends: Uint32Array, out: Uint8Array): void {
    if (ends.length === 0 || ends[ends.length - 1] !== input.length || out.length !== input.length + MAC_SIZE * ends.length) {
      throw new RangeError(`encryptPieces: expected pieces ending at ${input.length} and ${input.length + MAC_SIZE * ends.length} bytes of output, got ${ends.length} pieces and ${out.length} bytes`);
    }
    this.n += this.aead.aeadSeal(this.key, this.n, EMPTY, input, ends, out);
  }

  /** The plaintext, or NoiseError (`n` is then not advanced: §4.4.1). */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array, where = 'frame'): Buffer {
    if (ciphertext.length < MAC_SIZE) throw new NoiseError(where, `expected at least ${MAC_SIZE} bytes (a MAC), got ${ciphertext.length}`);
    const out = Buffer.allocUnsafe(ciphertext.length - MAC_SIZE);
    this.decryptInto(ad, ciphertext, 0, ciphertext.length, out, 0, where);
    return out;
  }

  /**
   * Opens the message input[offset, + length) (ciphertext ‖ MAC) into out at `outOffset`, in
   * place in the received bytes; NoiseError as decryptWithAd. `out` must not overlap `input`.
   */
  decryptInto(ad: Uint8Array, input: Uint8Array, offset: number, length: number, out: Uint8Array, outOffset: number, where = 'frame'): void {
    if (length < MAC_SIZE) throw new NoiseError(where, `expected at least ${MAC_SIZE} bytes (a MAC), got ${length}`);
    if (!this.aead.aeadOpen(this.key, this.n, ad, input, offset, length, out, outOffset)) {
      throw new NoiseError(where, `the MAC does not verify (message ${this.n}: a wrong key, a replayed or altered frame)`);
    }
    this.n++;
  }
}

// --- handshake -----------------------------------------------------------------------------

/** h and ck of the handshake, and the key of the moment (§4.4.2). */
class SymmetricState {
  h: Buffer;
  ck: Buffer;
  k: CipherState | undefined;

  constructor() {
    this.h = sha256(Buffer.from(PROTOCOL_NAME, 'ascii'));
    this.ck = this.h;
    this.mixHash(EMPTY); // the empty prologue
  }

  mixHash(data: Uint8Array): void {
    this.h = sha256(this.h, data);
  }

  mixKey(ikm: Uint8Array): void {
    const [ck, k] = hkdf2(this.ck, ikm);
    this.ck = ck;
    this.k = new CipherState(k);
  }

  encryptAndHash(plaintext: Uint8Array): Buffer {
    const ct = this.k ? this.k.encryptWithAd(this.h, plaintext) : Buffer.from(plaintext);
    this.mixHash(ct);
    return ct;
  }

  decryptAndHash(ciphertext: Uint8Array, where: string): Buffer {
    const pt = this.k ? this.k.decryptWithAd(this.h, ciphertext, where) : Buffer.from(ciphertext);
    this.mixHash(ciphertext);
    return pt;
  }

  /** (c1: initiator → responder, c2: responder → initiator). */
  split(): [CipherState, CipherState] {
    const [k1, k2] = hkdf2(this.ck, EMPTY);
    return [new CipherState(k1), new CipherState(k2)];
  }
}

/** The SHA-256 of the protocol name: h and ck before the prologue (a fixed vector). */
export function protocolNameHash(): Buffer {
  return sha256(Buffer.from(PROTOCOL_NAME, 'ascii'));
}

/** A finished handshake: send with `send`, receive with `recv`. */
export interface NoiseSession {
  readonly send: CipherState;
  readonly recv: CipherState;
}

/** The pool's side: one per connection. */
export class NoiseResponder {
  private readonly state = new SymmetricState();
  private readonly staticSecret: Secret;

  /**
   * @param staticKey the server's static key (its encoding is sent, encrypted)
   * @param signatureMessage the 74-byte SIGNATURE_NOISE_MESSAGE signed for it (certificate.ts)
   * @param ephemeral injected for replayable transcripts; a fresh key otherwise
   */
  constructor(
    staticKey: EllswiftKey,
    private readonly signatureMessage: Uint8Array,
    private readonly ephemeral: EllswiftKey = generateEllswiftKey(),
    /** The static key's OpenSSL form, shared by every connection of a server (saves a product). */
    staticSecret?: Secret,
    private readonly staticEllswift: Uint8Array = staticKey.ellswift,
  ) {
    this.staticSecret = staticSecret ?? new Secret(staticKey.secret);
    checkedSecret(ephemeral.secret);
    if (signatureMessage.length !== SIGNATURE_NOISE_MESSAGE_SIZE) throw new NoiseError('signature noise message', `expected ${SIGNATURE_NOISE_MESSAGE_SIZE} bytes, got ${signatureMessage.length}`);
  }

  /** Act 1 in (the initiator's 64 bytes), act 2 out (234 bytes), and the session. */
  respond(act1: Uint8Array): { reply: Buffer; session: NoiseSession } {
    if (act1.length !== ACT1_SIZE) throw new NoiseError('handshake act 1', `expected ${ACT1_SIZE} bytes, got ${act1.length}`);
    const s = this.state;
    const re = act1;
    s.mixHash(re);
    s.decryptAndHash(EMPTY, 'handshake act 1');
    const reX = decodeEllswift(re);
    const e = this.ephemeral;
    s.mixHash(e.ellswift);
    s.mixKey(tagged(e.secret, e.ellswift, re, false, reX));
    const encryptedStatic = s.encryptAndHash(this.staticEllswift);
    s.mixKey(tagged(this.staticSecret.secret, this.staticEllswift, re, false, reX));
    const encryptedSignature = s.encryptAndHash(this.signatureMessage);
    const [c1, c2] = s.split();
    return { reply: Buffer.concat([e.ellswift, encryptedStatic, encryptedSignature]), session: { recv: c1, send: c2 } };
  }
}

/** What the initiator learns of the server in act 2. */
export interface ServerIdentity {
  /** The server's static key, x-only (what the certificate signs). */
  readonly staticKey: Uint8Array;
  /** The decrypted SIGNATURE_NOISE_MESSAGE (certificate.ts checks it). */
  readonly signatureMessage: Buffer;
}

/** The client's side. */
export class NoiseInitiator {
  private readonly state = new SymmetricState();
  private readonly e: Uint8Array;

  constructor(private readonly ephemeral: EllswiftKey = generateEllswiftKey()) {
    this.e = checkedSecret(ephemeral.secret);
  }

  /** Act 1: our ephemeral key, 64 bytes. */
  start(): Buffer {
    this.state.mixHash(this.ephemeral.ellswift);
    this.state.encryptAndHash(EMPTY);
    return Buffer.from(this.ephemeral.ellswift);
  }

  /** Act 2 in (234 bytes): the session and the server's identity, or NoiseError. */
  finish(act2: Uint8Array): { session: NoiseSession; server: ServerIdentity } {
    if (act2.length !== ACT2_SIZE) throw new NoiseError('handshake act 2', `expected ${ACT2_SIZE} bytes, got ${act2.length}`);
    const s = this.state;
    const re = act2.subarray(0, ELLSWIFT_SIZE);
    s.mixHash(re);
    s.mixKey(tagged(this.e, this.ephemeral.ellswift, re, true));
    const rs = s.decryptAndHash(act2.subarray(ELLSWIFT_SIZE, 2 * ELLSWIFT_SIZE + MAC_SIZE), "handshake act 2: the server's static key");
    s.mixKey(tagged(this.e, this.ephemeral.ellswift, rs, true));
    const signatureMessage = s.decryptAndHash(act2.subarray(2 * ELLSWIFT_SIZE + MAC_SIZE), "handshake act 2: the server's certificate");
    const [c1, c2] = s.split();
    return { session: { send: c1, recv: c2 }, server: { staticKey: decodeEllswift(rs), signatureMessage } };
  }
}

/** One server's static key, held once for every connection's handshake. */
export class StaticKey {
  private readonly secret: Secret;
  constructor(readonly key: EllswiftKey) {
    this.secret = new Secret(key.secret);
  }

  get xOnly(): Uint8Array {
    return this.secret.xOnly;
  }

  responder(signatureMessage: Uint8Array, ephemeral?: EllswiftKey): NoiseResponder {
    return new NoiseResponder(this.key, signatureMessage, ephemeral, this.secret);
  }
}
