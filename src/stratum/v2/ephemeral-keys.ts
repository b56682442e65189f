/**
 * Ephemeral handshake keys made ahead of need, on a worker thread. A key is a random secret and
 * its ElligatorSwift encoding (§4.3.1.1); the encoding is found by trial in field arithmetic
 * (BigInt), about half of the pool's CPU for a handshake. Made beforehand on another thread, it
 * leaves the event loop — which serves every connection's jobs and shares — only the work that
 * needs the miner's key (decoding it and two ECDH). Nothing is weakened: every key is fresh,
 * handed out once, kept only in memory and zeroed when the pool closes; with the thread gone, or
 * none ready, a key is made on the spot as before.
 * @module
 */
import { Worker } from 'node:worker_threads';

import { generateEllswiftKey, type EllswiftKey } from './noise.js';

/** Keys kept ready: a burst of reconnecting miners takes them, the thread makes more meanwhile. */
export const READY_KEYS = 64;
/**
 * Its heap stays small: key generation keeps nothing. The thread still costs ~25 MB of RSS (an
 * isolate, and libsecp256k1's WebAssembly memory), hence started only at the first handshake.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 };

export class EphemeralKeys {
  private readonly ready: EllswiftKey[] = [];
  private worker: Worker | undefined;
  /** Keys asked of the thread and not yet received. */
  private asked = 0;
  /** Keys made on the spot because none was ready (for the bench and tests). */
  madeInline = 0;
  private failed = false;
  private started = false;
  private closed = false;
  private waiters: { count: number; resolve: () => void }[] = [];

  constructor(
    private readonly target = READY_KEYS,
    private readonly warn: (message: string) => void = () => undefined,
  ) {}

  /** The thread starts with the first handshake: a pool no V2 miner uses never pays for it. */
  private start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    let worker: Worker;
    try {
      worker = new Worker(new URL('./ephemeral-worker.js', import.meta.url), { resourceLimits: WORKER_LIMITS });
    } catch (err) {
      this.fail(err);
      return;
    }
    this.worker = worker;
    worker.unref(); // never what keeps the process alive
    worker.on('message', (keys: EllswiftKey[]) => {
      if (this.closed) {
        for (const key of keys) key.secret.fill(0); // made before the pool closed, never used
        return;
      }
      this.asked -= keys.length;
      this.ready.push(...keys);
      this.waiters = this.waiters.filter((w) => (this.ready.length >= w.count ? (w.resolve(), false) : true));
    });
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = undefined;
    });
  }

  /** Whether the thread is there (started at the first handshake, gone after close or a failure). */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** Keys ready now. */
  get available(): number {
    return this.ready.length;
  }

  /** Resolves once `count` keys are ready (the bench and tests wait on it, not on time). */
  whenReady(count = this.target): Promise<void> {
    this.start();
    this.refill();
    if (this.ready.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  /** A fresh key, never handed out before. */
  take(): EllswiftKey {
    this.start();
    const key = this.ready.shift();
    this.refill();
    if (key !== undefined) return key;
    this.madeInline++;
    return generateEllswiftKey();
  }

  /** Stops the thread; keys not handed out are zeroed. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.closed = true;
    for (const key of this.ready.splice(0)) key.secret.fill(0);
    await worker?.terminate();
  }

  private refill(): void {
    const want = this.target - this.ready.length - this.asked;
    // Asked for in halves of the target, not one message a key.
    if (this.worker === undefined || want < this.target / 2) return;
    this.asked += want;
    this.worker.postMessage(want);
  }

  private fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.warn(`stratum v2: the thread making handshake keys ahead failed (${(err as Error).message}); keys are made at each handshake instead`);
    void this.worker?.terminate();
    this.worker = undefined;
    this.asked = 0;
  }
}
