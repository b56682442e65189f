// Range checks shared by every engine, done before anything reaches C++ or WGSL.
import { MAX_SCAN_VERSIONS, type ScanWork } from './engine.js';

export const NONCE_SPACE = 2 ** 32;

/** A scan request out of range; `field` names what to fix. */
export class ScanInputError extends Error {
  override readonly name = 'ScanInputError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** Headers a scan of `work` hashes: its nonces times its versions. */
export function scanHashes(work: ScanWork): number {
  return work.count * (work.versions?.length ?? 1);
}

/** The versions a scan of `work` hashes each nonce with: its own list, or the header's version. */
export function scanVersions(work: ScanWork): readonly number[] {
  if (work.versions !== undefined) return work.versions;
  const h = work.header;
  return [(h[0]! | (h[1]! << 8) | (h[2]! << 16) | (h[3]! << 24)) >>> 0];
}

export function checkScanWork(work: ScanWork): void {
  if (!(work.header instanceof Uint8Array) || work.header.length !== 80) {
    throw new ScanInputError('header', `expected 80 bytes, got ${work.header?.length ?? typeof work.header}`);
  }
  if (!(work.target instanceof Uint8Array) || work.target.length !== 32) {
    throw new ScanInputError('target', `expected 32 bytes, got ${work.target?.length ?? typeof work.target}`);
  }
  if (!Number.isInteger(work.start) || work.start < 0 || work.start >= NONCE_SPACE) {
    throw new ScanInputError('start', `expected an integer 0..4294967295, got ${work.start}`);
  }
  if (!Number.isInteger(work.count) || work.count < 1 || work.count > NONCE_SPACE) {
    throw new ScanInputError('count', `expected an integer 1..4294967296, got ${work.count}`);
  }
  if (work.versions !== undefined) {
    const v = work.versions;
    const expected = `expected 1..${MAX_SCAN_VERSIONS} distinct integers 0..4294967295`;
    if (!Array.isArray(v) || v.length < 1 || v.length > MAX_SCAN_VERSIONS) {
      throw new ScanInputError('versions', `${expected}, got ${Array.isArray(v) ? `${v.length} values` : typeof v}`);
    }
    for (const [i, x] of v.entries()) {
      if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) throw new ScanInputError('versions', `${expected}, got ${String(x)} at ${i}`);
      if (v.indexOf(x) !== i) throw new ScanInputError('versions', `${expected}, got ${x} twice`);
    }
  }
  if (work.start + work.count > NONCE_SPACE) {
    throw new ScanInputError(
      'count',
      `the range ${work.start} + ${work.count} ends past nonce 4294967295 (at most ${NONCE_SPACE - work.start} from this start)`,
    );
  }
}
