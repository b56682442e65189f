/**
 * The pool's authority key and the certificate it signs for the server's static key
 * (sv2-spec §4.5.2–§4.5.3, §4.7).
 *
 * - The authority key is what miners configure: its x-only public key in base58check of
 *   [1, 0] ‖ key (the version is a little-endian U16, §4.7) — 51 characters, as in the spec's
 *   §4.7.1 example. ESP-Miner takes it as a setting of its own; SRI-style miners take it as the
 *   path of `stratum2+tcp://host:port/<key>`.
 * - The certificate (SIGNATURE_NOISE_MESSAGE, 74 bytes): version U16 = 0, valid_from U32,
 *   not_valid_after U32, and a BIP340 signature by the authority key over
 *   SHA-256(version ‖ valid_from ‖ not_valid_after ‖ server x-only key), all little-endian.
 *   SRI checks the window with ±10 s of leeway; ESP-Miner checks neither window nor version.
 * @module
 */
import { createHash } from 'node:crypto';

import { schnorr } from '@noble/curves/secp256k1.js';
import { createBase58check } from '@scure/base';

import { AuthorityKeyError, NoiseError } from './errors.js';
import { SIGNATURE_NOISE_MESSAGE_SIZE, sha256 } from './noise.js';

const base58check = createBase58check((data: Uint8Array) => Uint8Array.from(createHash('sha256').update(data).digest()));
/** The version prefix of an encoded authority key: U16 1, little-endian (§4.7). */
const KEY_VERSION = Uint8Array.of(1, 0);
export const CERTIFICATE_VERSION = 0;
/** SRI's leeway on both ends of the validity window. */
export const CLOCK_LEEWAY_SECONDS = 10;

/** The authority public key as users configure it (§4.7). */
export function encodeAuthorityKey(xOnly: Uint8Array): string {
  if (xOnly.length !== 32) throw new AuthorityKeyError('authority key', `expected a 32-byte x-only key, got ${xOnly.length} bytes`);
  const bytes = new Uint8Array(34);
  bytes.set(KEY_VERSION, 0);
  bytes.set(xOnly, 2);
  return base58check.encode(bytes);
}

/** The x-only key of an encoded authority key, or AuthorityKeyError saying what is wrong. */
export function decodeAuthorityKey(text: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = base58check.decode(text);
  } catch {
    throw new AuthorityKeyError('authority key', 'expected base58check text (a typo, or a truncated key: its checksum does not match)');
  }
  if (bytes.length !== 34) throw new AuthorityKeyError('authority key', `expected 34 bytes (version and 32-byte key), got ${bytes.length}`);
  if (bytes[0] !== KEY_VERSION[0] || bytes[1] !== KEY_VERSION[1]) throw new AuthorityKeyError('authority key', `expected version [1, 0], got [${bytes[0]}, ${bytes[1]}]`);
  const key = bytes.slice(2);
  try {
    schnorr.utils.lift_x(BigInt(`0x${Buffer.from(key).toString('hex')}`));
  } catch {
    throw new AuthorityKeyError('authority key', 'expected the x coordinate of a secp256k1 point');
  }
  return key;
}

/** A parsed SIGNATURE_NOISE_MESSAGE. */
export interface Certificate {
  readonly version: number;
  /** Unix seconds. */
  readonly validFrom: number;
  readonly notValidAfter: number;
  readonly signature: Uint8Array;
}

/** m = SHA-256(version ‖ valid_from ‖ not_valid_after ‖ server_public_key) (§4.5.3.1). */
function signedHash(version: number, validFrom: number, notValidAfter: number, serverKey: Uint8Array): Buffer {
  const fields = Buffer.alloc(10);
  fields.writeUInt16LE(version, 0);
  fields.writeUInt32LE(validFrom >>> 0, 2);
  fields.writeUInt32LE(notValidAfter >>> 0, 6);
  return sha256(fields, serverKey);
}

/**
 * The 74-byte SIGNATURE_NOISE_MESSAGE for `serverKey` (x-only) valid over [validFrom,
 * notValidAfter]. `auxRand` makes the signature reproducible (BIP340's auxiliary randomness).
 */
export function signCertificate(authoritySecret: Uint8Array, serverKey: Uint8Array, validFrom: number, notValidAfter: number, auxRand?: Uint8Array): Buffer {
  if (!(Number.isInteger(validFrom) && Number.isInteger(notValidAfter) && validFrom >= 0 && notValidAfter <= 0xffffffff && validFrom <= notValidAfter)) {
    throw new AuthorityKeyError('certificate', `expected 0 <= valid_from <= not_valid_after <= 2^32-1, got ${validFrom}..${notValidAfter}`);
  }
  const m = signedHash(CERTIFICATE_VERSION, validFrom, notValidAfter, serverKey);
  const signature = schnorr.sign(m, authoritySecret, auxRand);
  const out = Buffer.alloc(SIGNATURE_NOISE_MESSAGE_SIZE);
  out.writeUInt16LE(CERTIFICATE_VERSION, 0);
  out.writeUInt32LE(validFrom, 2);
  out.writeUInt32LE(notValidAfter, 6);
  out.set(signature, 10);
  return out;
}

export function parseCertificate(message: Uint8Array): Certificate {
  if (message.length !== SIGNATURE_NOISE_MESSAGE_SIZE) throw new NoiseError('certificate', `expected ${SIGNATURE_NOISE_MESSAGE_SIZE} bytes, got ${message.length}`);
  const b = Buffer.from(message.buffer, message.byteOffset, message.length);
  return { version: b.readUInt16LE(0), validFrom: b.readUInt32LE(2), notValidAfter: b.readUInt32LE(6), signature: Uint8Array.from(b.subarray(10)) };
}

/**
 * Throws NoiseError unless `cert` is version 0, signed by `authorityKey` for `serverKey`, and
 * `nowSeconds` lies in its window (± the leeway).
 */
export function verifyCertificate(cert: Certificate, serverKey: Uint8Array, authorityKey: Uint8Array, nowSeconds: number, leeway = CLOCK_LEEWAY_SECONDS): void {
  if (cert.version !== CERTIFICATE_VERSION) throw new NoiseError('certificate', `expected version ${CERTIFICATE_VERSION}, got ${cert.version}`);
  const m = signedHash(cert.version, cert.validFrom, cert.notValidAfter, serverKey);
  if (!schnorr.verify(cert.signature, m, authorityKey)) {
    throw new NoiseError('certificate', "the signature is not the authority key's (a wrong authority key, or not this pool)");
  }
  if (nowSeconds + leeway < cert.validFrom) throw new NoiseError('certificate', `not valid before ${new Date(cert.validFrom * 1000).toISOString()} (check this machine's clock)`);
  if (nowSeconds - leeway > cert.notValidAfter) throw new NoiseError('certificate', `expired at ${new Date(cert.notValidAfter * 1000).toISOString()}`);
}
