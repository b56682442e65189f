// Counters of one run of the service, kept by the orchestrator's events; the end-of-run
// summary and (later) the hourly reports and metrics read them.
import type { Outcome } from '../ops/found-block-journal.js';
import type { TemplateReason } from '../node/template-source.js';

export interface EngineStats {
  readonly kind: string;
  readonly backend: string;
  hashes: number;
}

export class MiningStats {
  readonly startedAt = Date.now();
  readonly engines = new Map<string, EngineStats>();
  readonly templates: Record<TemplateReason, number> = { initial: 0, zmq: 0, longpoll: 0, refresh: 0, submit: 0 };
  readonly switchLatencyMs: number[] = [];
  readonly switchOverheadMs: number[] = [];
  /** Milliseconds from a block's candidate reaching the orchestrator to submitblock sent. */
  readonly submitMs: number[] = [];
  candidates = 0;
  blocksFound = 0;
  readonly outcomes: Partial<Record<Outcome, number>> = {};
  readonly rejections: Record<string, number> = {};
  discarded = 0;
  bestShareDifficulty = 0;

  engine(kind: string, backend: string): EngineStats {
    const key = `${kind}/${backend}`;
    let entry = this.engines.get(key);
    if (!entry) {
      entry = { kind, backend, hashes: 0 };
      this.engines.set(key, entry);
    }
    return entry;
  }

  get totalHashes(): number {
    let total = 0;
    for (const e of this.engines.values()) total += e.hashes;
    return total;
  }

  get accepted(): number {
    return this.outcomes.accepted ?? 0;
  }

  recordOutcome(outcome: Outcome, reason?: string): void {
    this.outcomes[outcome] = (this.outcomes[outcome] ?? 0) + 1;
    if (outcome === 'rejected' && reason) this.rejections[reason] = (this.rejections[reason] ?? 0) + 1;
  }
}

/** The value below which `fraction` of the samples lie (nearest rank). */
export function percentile(samples: readonly number[], fraction: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))]!;
}
