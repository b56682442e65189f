/**
 * SHA-256 (FIPS 180-4) and Bitcoin's double SHA-256, through node:crypto (OpenSSL).
 * @module
 */
import { createHash } from 'node:crypto';
import { assertBytes } from './bytes.js';

/** SHA-256 of `data`, 32 bytes. */
export function sha256(data: Uint8Array): Uint8Array {
  assertBytes(data, 'sha256/data');
  return new Uint8Array(createHash('sha256').update(data).digest());
}

/**
 * SHA-256d: SHA-256 applied twice, `SHA256(SHA256(data))`. Bitcoin's hash for block headers,
 * txids, wtxids and merkle nodes. The result is in internal byte order (see `reverseBytes`).
 */
export function sha256d(data: Uint8Array): Uint8Array {
  assertBytes(data, 'sha256d/data');
  const first = createHash('sha256').update(data).digest();
  return new Uint8Array(createHash('sha256').update(first).digest());
}
