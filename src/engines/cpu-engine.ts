// The CPU engine: the C++ nonce scanner behind the Engine interface. Threads live in C++;
// this class only starts scans, forwards their events and tracks which work is current.
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';

import { nativeAddon, type NativeBackend, type NativeScanJob, type NativeUpdate } from '../native/addon.js';
import type { Engine, EngineEvents, ScanWork } from './engine.js';
import { checkScanWork } from './work-checks.js';

/** A back end that does not exist or that this CPU cannot run. */
export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
}

export interface CpuEngineOptions {
  /** A back end name from cpuBackends(); the fastest usable one when absent. */
  readonly backend?: string;
  /** Worker threads; all cores when absent. */
  readonly threads?: number;
  /** How often hash counts are reported while a scan runs. */
  readonly progressMs?: number;
}

/** Every back end compiled into the addon, fastest first, with whether this CPU can run it. */
export function cpuBackends(): NativeBackend[] {
  return nativeAddon().backends();
}

/** Picks a usable back end by name, or the fastest; one clear error otherwise. */
export function resolveCpuBackend(name?: string): NativeBackend {
  const all = cpuBackends();
  if (name === undefined) {
    const best = all.find((b) => b.usable);
    if (!best) throw new BackendUnavailableError('backend: no usable CPU back end (even scalar failed its self-test)');
    return best;
  }
  const found = all.find((b) => b.name === name);
  if (!found) {
    throw new BackendUnavailableError(`backend: expected one of ${all.map((b) => b.name).join(', ')}, got ${name}`);
  }
  if (!found.usable) throw new BackendUnavailableError(`backend: ${name} is not available here (${found.reason})`);
  return found;
}

export function defaultThreads(): number {
  return availableParallelism();
}

export class CpuEngine extends EventEmitter<EngineEvents> implements Engine {
  readonly kind = 'cpu';
  readonly backend: string;
  readonly description: string;
  readonly threads: number;
  private readonly progressMs: number;
  private job: NativeScanJob | undefined;
  private current: ScanWork | undefined;
  private reported = 0;
  private finished: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(options: CpuEngineOptions = {}) {
    super();
    const backend = resolveCpuBackend(options.backend);
    this.backend = backend.name;
    this.description = backend.description;
    const threads = options.threads ?? defaultThreads();
    if (!Number.isInteger(threads) || threads < 1 || threads > 1024) {
      throw new RangeError(`threads: expected an integer 1..1024, got ${threads}`);
    }
    this.threads = threads;
    this.progressMs = options.progressMs ?? 250;
  }

  get busy(): boolean {
    return this.job !== undefined;
  }

  start(work: ScanWork): void {
    if (this.closed) throw new Error('cpu engine: start() after close()');
    if (this.job) throw new Error('cpu engine: start() while a scan is running; stop() it first');
    checkScanWork(work);
    this.current = work;
    this.reported = 0;
    let resolveFinished: () => void = () => {};
    this.finished = new Promise((resolve) => {
      resolveFinished = resolve;
    });
    this.job = new (nativeAddon().ScanJob)(
      {
        header: work.header,
        target: work.target,
        start: work.start,
        count: work.count,
        backend: this.backend,
        threads: this.threads,
        progressMs: this.progressMs,
        stopOnFound: work.stopOnFound ?? false,
      },
      (update) => this.onUpdate(work, update, resolveFinished),
    );
  }

  private onUpdate(work: ScanWork, update: NativeUpdate, resolveFinished: () => void): void {
    for (const found of update.found) {
      this.emit('candidate', { workId: work.id, nonce: found.nonce, hash: found.hash });
    }
    const delta = update.hashes - this.reported;
    if (delta > 0) {
      this.reported = update.hashes;
      this.emit('hashes', { workId: work.id, hashes: delta });
    }
    if (update.done) {
      this.job = undefined;
      this.current = undefined;
      this.emit('done', { workId: work.id, hashes: update.hashes, seconds: update.seconds, stopped: update.stopped });
      resolveFinished();
    }
  }

  async stop(): Promise<void> {
    this.job?.stop();
    await this.finished;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stop();
  }

  /** The work being hashed now, if any. */
  get work(): ScanWork | undefined {
    return this.current;
  }
}
