// The counts of one run of the service: what the end-of-run summary, `demo`, the tests and the
// mining benchmark read. Only the recorder (recorder.ts) writes to it, from the same call that
// feeds the reports, metrics and status, so the summary and the reports cannot disagree.

/** Samples kept per latency series: enough for p99 of a long benchmark, bounded for a long run. */
const SAMPLE_CAP = 100_000;

export interface EngineTally {
  readonly kind: string;
  readonly backend: string;
  hashes: number;
}

export class RunTally {
  readonly startedAt: number;
  readonly engines = new Map<string, EngineTally>();
  readonly templates: Record<string, number> = { initial: 0, zmq: 0, longpoll: 0, refresh: 0, submit: 0, failover: 0 };
  /** Trigger to every engine hashing the new job, milliseconds. */
  readonly switchLatencyMs: number[] = [];
  /** The part of a switch that is not the getblocktemplate round trip, milliseconds. */
  readonly switchOverheadMs: number[] = [];
  /** A block's candidate reaching the orchestrator → submitblock sent, milliseconds. */
  readonly submitMs: number[] = [];
  /** A block's candidate reaching the orchestrator → every configured node has it in its active chain, milliseconds. */
  readonly acceptedByAllMs: number[] = [];
  candidates = 0;
  workSwitches = 0;
  blocksFound = 0;
  readonly outcomes: Partial<Record<string, number>> = {};
  readonly rejections: Record<string, number> = {};
  discarded = 0;
  poolSharesAccepted = 0;
  readonly poolSharesRejected: Record<string, number> = {};
  bestShareDifficulty = 0;

  constructor(startedAt: number) {
    this.startedAt = startedAt;
  }

  engine(kind: string, backend: string): EngineTally {
    const key = `${kind}/${backend}`;
    let entry = this.engines.get(key);
    if (!entry) this.engines.set(key, (entry = { kind, backend, hashes: 0 }));
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

  outcome(outcome: string, reason?: string): void {
    this.outcomes[outcome] = (this.outcomes[outcome] ?? 0) + 1;
    if (outcome === 'rejected' && reason) this.rejections[reason] = (this.rejections[reason] ?? 0) + 1;
  }

  static sample(series: number[], value: number): void {
    series.push(value);
    if (series.length > SAMPLE_CAP) series.splice(0, series.length - SAMPLE_CAP);
  }
}

/** The value below which `fraction` of the samples lie (nearest rank). */
export function percentile(samples: readonly number[], fraction: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))]!;
}
