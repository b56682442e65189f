// Real engines with a hand on what they find. GatedEngine hashes as usual, but the candidates it
// finds are held until open() (then delivered in order): tests use it to decide who wins a race
// — a rival block before the miner's own — without making the miner slower or the outcome a
// matter of luck, or let exactly `pass(n)` through (on a chain where every hash is a block).
// LastVersionFirst hashes the versions it is given in reverse order: at a trivial target (regtest,
// where the first hash of a scan is usually a block) its blocks carry a rolled version, not the
// job's own, so a test can prove that the node accepts rolled versions without waiting on luck.
// WithheldEngine hashes at full speed against a target no hash can meet, so it
// finds nothing at all until release() lets one block through: a regtest miner with a steady hash
// rate and no blocks, whose one block comes when the test says.
import { EventEmitter } from 'node:events';

import type { Candidate, Engine, EngineEvents, ScanWork } from '../../src/engines/engine.js';

/** Passes everything through to `inner`; subclasses change one thing. */
abstract class EngineWrapper extends EventEmitter<EngineEvents> implements Engine {
  constructor(protected readonly inner: Engine) {
    super();
    inner.on('candidate', (c) => this.onCandidate(c));
    inner.on('hashes', (h) => this.emit('hashes', h));
    inner.on('done', (d) => this.emit('done', d));
    inner.on('error', (e) => this.emit('error', e));
  }

  protected onCandidate(c: Candidate): void {
    this.emit('candidate', c);
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
  get versionsPerScan(): number {
    return this.inner.versionsPerScan;
  }
  get busy(): boolean {
    return this.inner.busy;
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

export class GatedEngine extends EngineWrapper {
  private held: Candidate[] | undefined = [];
  private allowance = 0;

  protected override onCandidate(c: Candidate): void {
    if (!this.held) this.emit('candidate', c);
    else if (this.allowance > 0) {
      this.allowance--;
      this.emit('candidate', c);
    } else this.held.push(c);
  }

  /** Lets the next `count` candidates through while the gate stays closed for the rest. */
  pass(count: number): void {
    this.allowance += count;
  }

  /** Delivers what was held and lets every later candidate through. */
  open(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const c of held) this.emit('candidate', c);
  }
}

export class LastVersionFirst extends EngineWrapper {
  override start(work: ScanWork): void {
    this.inner.start(work.versions ? { ...work, versions: [...work.versions].reverse() } : work);
  }
}

/** All-zero: a hash at or below it would be the zero hash. */
const UNREACHABLE_TARGET = new Uint8Array(32);

export class WithheldEngine extends EngineWrapper {
  private releases = 0;

  override start(work: ScanWork): void {
    this.inner.start(this.releases > 0 ? work : { ...work, target: UNREACHABLE_TARGET });
  }

  /**
   * Lets the next candidate through, then withholds again. The scan in flight (against the
   * unreachable target) is ended; the orchestrator gives the engine fresh work after its pause.
   */
  release(): Promise<void> {
    this.releases++;
    return this.inner.stop();
  }

  protected override onCandidate(c: Candidate): void {
    if (this.releases > 0) this.releases--;
    this.emit('candidate', c);
  }
}
