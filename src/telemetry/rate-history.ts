// The hash-rate history: a bounded ring of samples in the miner process (24 h at 10 s by default,
// so a page opened now draws the day at once), and the columns a chart draws from it. The
// columns code is shared with the page (it imports nothing but types), which appends each live
// sample to what the server sent.
import type { HistoryColumns, RateSample, SeriesKind } from './status-document.js';

/** A fixed-capacity ring: pushing onto a full ring drops the oldest element. */
export class Ring<T> {
  private readonly items: (T | undefined)[];
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity: expected an integer >= 1, got ${capacity}`);
    this.items = new Array<T | undefined>(capacity);
  }

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count < this.capacity) {
      this.items[(this.start + this.count) % this.capacity] = item;
      this.count++;
    } else {
      this.items[this.start] = item;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** Oldest first. */
  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.items[(this.start + i) % this.capacity] as T);
    return out;
  }

  last(): T | undefined {
    return this.count === 0 ? undefined : this.items[(this.start + this.count - 1) % this.capacity];
  }
}

const TOTAL_KEY = 'total';

/** The hash-rate history as chart columns; grows by samples, never beyond `maxPoints`. */
export class RateColumns {
  readonly t: number[] = [];
  readonly series: HistoryColumns['series'] = [{ key: TOTAL_KEY, kind: 'total', label: 'total', values: [] }];

  constructor(
    readonly intervalSeconds: number,
    readonly maxPoints: number,
  ) {}

  static fromSamples(samples: readonly RateSample[], intervalSeconds: number, maxPoints = samples.length): RateColumns {
    const c = new RateColumns(intervalSeconds, Math.max(1, maxPoints));
    for (const s of samples) c.append(s);
    return c;
  }

  /** Columns received from the server, to be appended to. */
  static fromColumns(h: HistoryColumns, maxPoints: number): RateColumns {
    const c = new RateColumns(h.intervalSeconds, Math.max(1, maxPoints));
    c.t.push(...h.t);
    c.series.length = 0;
    for (const s of h.series) c.series.push({ key: s.key, kind: s.kind, label: s.label, values: [...s.values] });
    if (!c.series.some((s) => s.key === TOTAL_KEY)) c.series.unshift({ key: TOTAL_KEY, kind: 'total', label: 'total', values: c.t.map(() => null) });
    c.trim();
    return c;
  }

  /** Adds a sample; returns true when it brought a series not seen before (a chart must be rebuilt). */
  append(sample: RateSample): boolean {
    let added = false;
    const values = new Map<string, number>([[TOTAL_KEY, sample.total]]);
    const note = (kind: SeriesKind, entries: Readonly<Record<string, number>> | undefined) => {
      for (const [name, v] of Object.entries(entries ?? {})) {
        const key = `${kind}:${name}`;
        values.set(key, v);
        if (!this.series.some((s) => s.key === key)) {
          this.series.push({ key, kind, label: name, values: this.t.map(() => null) });
          added = true;
        }
      }
    };
    note('engine', sample.engines);
    note('worker', sample.workers);
    this.t.push(sample.t / 1000);
    for (const s of this.series) s.values.push(values.get(s.key) ?? null);
    this.trim();
    return added;
  }

  private trim(): void {
    const excess = this.t.length - this.maxPoints;
    if (excess <= 0) return;
    this.t.splice(0, excess);
    for (const s of this.series) s.values.splice(0, excess);
  }

  toJSON(): HistoryColumns {
    return { intervalSeconds: this.intervalSeconds, t: this.t, series: this.series };
  }
}
