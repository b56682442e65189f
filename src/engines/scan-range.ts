// Runs one ScanWork to completion on an engine and collects what it found.
import type { Candidate, Engine, ScanWork, WorkDone } from './engine.js';

export interface ScanResult {
  /** Headers hashed: nonces × versions. */
  readonly hashes: number;
  readonly seconds: number;
  readonly stopped: boolean;
  /** Every (version, nonce) at or below the target, in nonce order (then in the work's version order). */
  readonly found: readonly Candidate[];
}

export function scanRange(engine: Engine, work: ScanWork, signal?: AbortSignal): Promise<ScanResult> {
  return new Promise((resolve, reject) => {
    const found: Candidate[] = [];
    const onCandidate = (c: Candidate) => {
      if (c.workId === work.id) found.push(c);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onDone = (done: WorkDone) => {
      if (done.workId !== work.id) return;
      cleanup();
      const order = work.versions ?? [];
      found.sort((a, b) => a.nonce - b.nonce || order.indexOf(a.version) - order.indexOf(b.version));
      resolve({ hashes: done.hashes, seconds: done.seconds, stopped: done.stopped, found });
    };
    const onAbort = () => void engine.stop();
    const cleanup = () => {
      engine.off('candidate', onCandidate);
      engine.off('done', onDone);
      engine.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
    };
    engine.on('candidate', onCandidate);
    engine.on('done', onDone);
    engine.on('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      engine.start(work);
    } catch (err) {
      cleanup();
      reject(err);
    }
  });
}
