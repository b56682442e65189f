// A real engine behind a gate: it hashes as usual, but the candidates it finds are held until
// open() (then delivered in order). Tests use it to decide who wins a race — a rival block
// before the miner's own — without making the miner slower or the outcome a matter of luck —
// or let exactly one block through and no more (pass), on a chain where every hash is a block.
import { EventEmitter } from 'node:events';

import type { Candidate, Engine, EngineEvents, ScanWork } from '../../src/engines/engine.js';

export class GatedEngine extends EventEmitter<EngineEvents> implements Engine {
  private held: Candidate[] | undefined = [];
  private allowance = 0;

  constructor(private readonly inner: Engine) {
    super();
    inner.on('candidate', (c) => {
      if (!this.held) this.emit('candidate', c);
      else if (this.allowance > 0) {
        this.allowance--;
        this.emit('candidate', c);
      } else this.held.push(c);
    });
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

  /** Lets the next `count` candidates through while the gate stays closed for the rest. */
  pass(count: number): void {
    this.allowance += count;
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
