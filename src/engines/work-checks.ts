// Range checks shared by every engine, done before anything reaches C++ or WGSL.
import type { ScanWork } from './engine.js';

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
  if (work.start + work.count > NONCE_SPACE) {
    throw new ScanInputError(
      'count',
      `the range ${work.start} + ${work.count} ends past nonce 4294967295 (at most ${NONCE_SPACE - work.start} from this start)`,
    );
  }
}
