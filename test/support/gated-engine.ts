// A real engine behind a gate: it hashes as usual, but the candidates it finds are held until
// open() (then delivered in order). Tests use it to decide who wins a race — a rival block
// before the miner's own — without making the miner slower or the outcome a matter of luck.
import { EventEmitter } from 'node:events';

import type { Candidate, Engine, EngineEvents, ScanWork } from '../../src/engines/engine.js';

export class GatedEngine extends EventEmitter<EngineEvents> implements Engine {
  private held: Candidate[] | undefined = [];

  constructor(private readonly inner: Engine) {
    super();
    inner.on('candidate', (c) => (this.held ? this.held.push(c) : this.emit('candidate', c)));
    inner.on('hashes', (h) => this.emit('hashes', h));
    inner.on('done', (d) => this.emit('done', d));
    inner.on('error', (e) => this.emit('error', e));
  }

  get kind(): string {
    return this.inner.kind;
  }
  get backend(): string {
    return this.inner.backend;
  }
  get threads(): number {
    return this.inner.threads;
  }
  get busy(): boolean {
    return this.inner.busy;
  }

  /** Delivers what was held and lets every later candidate through. */
  open(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const c of held) this.emit('candidate', c);
  }

  start(work: ScanWork): void {
    this.inner.start(work);
  }
  stop(): Promise<void> {
    return this.inner.stop();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
