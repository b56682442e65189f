// What `bench` and `tune` measure: one engine configuration hashing a fixed header for a few
// seconds (benchEngine), and the sweep over configurations that `bench --sweep` prints and
// `tune` chooses from — CPU threads 1..n on every usable back end, and the GPU tuning candidates
// of the adapter (src/engines/gpu/tuning.ts).
import { cpuBackends, defaultThreads } from '../engines/cpu-engine.js';
import { createEngine, EngineUnavailableError, type EngineKind } from '../engines/create-engine.js';
import type { Engine } from '../engines/engine.js';
import { DEFAULT_TUNING, gpuTuningCandidates, tuningLabel, type GpuTuning } from '../engines/gpu/tuning.js';
import { scanRange } from '../engines/scan-range.js';

export interface BenchRow {
  readonly engine: string;
  readonly backend: string;
  readonly threads: number;
  /** Versions each nonce was hashed with (version rolling; 1: the formulation without it). */
  readonly versions: number;
  readonly seconds: number;
  readonly hashes: number;
  readonly hashesPerSecond: number;
}

/** A sweep's row: a bench row, and for the GPU the tuning it ran with ("wg64 n16 40ms q2"). */
export interface SweepRow extends BenchRow {
  readonly tuning?: string;
}

/** A header that is not a real block's; any fixed 80 bytes measure the same. */
const BENCH_HEADER = Uint8Array.from({ length: 80 }, (_, i) => (i * 37 + 11) & 0xff);
/** Target 1: no hash of this header reaches it, so every nonce costs the full work. */
const UNREACHABLE_TARGET = Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? 1 : 0));

/** `count` versions rolled over BIP320's lowest bits, as a job lets the engines roll them. */
export function benchVersions(count: number): number[] {
  return Array.from({ length: count }, (_, i) => (0x20000000 | (i << 13)) >>> 0);
}

/**
 * Hashes the bench header for `seconds` with `versions` versions per nonce (default: as many as
 * the engine hashes on a job that lets it roll them, so the rate is the one it mines at).
 */
export async function benchEngine(engine: Engine, seconds: number, versions = engine.versionsPerScan): Promise<BenchRow> {
  const timer = setTimeout(() => void engine.stop(), seconds * 1000);
  try {
    const result = await scanRange(engine, {
      id: 'bench',
      header: BENCH_HEADER,
      target: UNREACHABLE_TARGET,
      start: 0,
      count: 2 ** 32,
      ...(versions > 1 && { versions: benchVersions(versions) }),
    });
    return {
      engine: engine.kind,
      backend: engine.backend,
      threads: engine.threads,
      versions,
      seconds: result.seconds,
      hashes: result.hashes,
      hashesPerSecond: result.seconds > 0 ? result.hashes / result.seconds : 0,
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Thread counts to compare up to `n`: every count up to 8, beyond that the powers of two and n
 * itself (a 64-core sweep of 64 counts × every back end would take many minutes).
 */
export function sweepThreadCounts(n: number): number[] {
  const counts = new Set<number>();
  for (let t = 1; t <= n; t++) if (t <= 8 || (t & (t - 1)) === 0) counts.add(t);
  counts.add(n);
  return [...counts].sort((a, b) => a - b);
}

export interface SweepOptions {
  readonly engines: readonly EngineKind[];
  /** Seconds per row. */
  readonly seconds: number;
  /** CPU: the most threads tried (default: defaultThreads(), the CPUs this process may use). */
  readonly maxThreads?: number;
  /** CPU: these back ends only (default: every usable one). */
  readonly cpuBackends?: readonly string[];
  /** GPU: the adapter (an index or part of its name; default: the first). */
  readonly gpuAdapter?: string;
  /** GPU: the tunings to compare (default: gpuTuningCandidates of the adapter's limits). */
  readonly gpuTunings?: readonly GpuTuning[];
  /** Each row as soon as it is measured. */
  readonly onRow?: (row: SweepRow) => void;
  /**
   * An engine kind that cannot run here: with `required` (asked for by name) the sweep throws
   * EngineUnavailableError; otherwise it is reported here and left out.
   */
  readonly onUnavailable?: (kind: EngineKind, why: string) => void;
  readonly required?: boolean;
}

export async function runSweep(options: SweepOptions): Promise<SweepRow[]> {
  const rows: SweepRow[] = [];
  const add = (row: SweepRow) => {
    rows.push(row);
    options.onRow?.(row);
  };
  if (options.engines.includes('cpu')) {
    const backends = options.cpuBackends ?? cpuBackends().filter((b) => b.usable).map((b) => b.name);
    const counts = sweepThreadCounts(options.maxThreads ?? defaultThreads());
    for (const backend of backends) {
      for (const threads of counts) {
        const engine = await createEngine({ kind: 'cpu', backend, threads });
        try {
          add(await benchEngine(engine, options.seconds));
        } finally {
          await engine.close();
        }
      }
    }
  }
  if (options.engines.includes('gpu')) {
    const candidates = options.gpuTunings ?? (await gpuCandidates(options.gpuAdapter));
    for (const tuning of candidates) {
      let engine: Engine;
      try {
        engine = await createEngine({ kind: 'gpu', tuning, ...(options.gpuAdapter !== undefined && { backend: options.gpuAdapter }) });
      } catch (err) {
        if (!(err instanceof EngineUnavailableError) || options.required) throw err;
        options.onUnavailable?.('gpu', err.detail);
        break;
      }
      try {
        add({ ...(await benchEngine(engine, options.seconds)), tuning: tuningLabel(tuning) });
      } finally {
        await engine.close();
      }
    }
  }
  return rows;
}

/** The tuning candidates within the limits of the adapter `choice` names (the first by default). */
async function gpuCandidates(choice: string | undefined): Promise<GpuTuning[]> {
  try {
    const { gpuAdapters } = await import('../engines/gpu-engine.js');
    const needle = choice?.toLowerCase();
    const adapters = await gpuAdapters();
    const adapter = needle === undefined ? adapters[0] : adapters.find((a) => String(a.index) === needle || a.name.toLowerCase().includes(needle));
    return gpuTuningCandidates(adapter?.limits);
  } catch {
    // No adapter: creating the first engine says why, in the engine's own words.
    return [DEFAULT_TUNING];
  }
}

/**
 * Rows within this fraction of the fastest count as as fast (a sweep's rows are short, and the
 * machine may be busy): then fewer threads win (cores kept free), and the default GPU tuning.
 */
export const AS_FAST = 0.97;

const times = (x: number) => `${x.toFixed(2)}×`;

/** The configuration a sweep found best: config keys, each with why. */
export interface TuneChoice {
  readonly keys: { threads?: number; cpuBackend?: string; gpuTuning?: string };
  readonly reasons: string[];
}

/**
 * The best CPU configuration: the fewest threads whose best back end reaches AS_FAST of the
 * fastest row, on that back end; and the fastest GPU tuning, unless the default reaches AS_FAST
 * of it. Reasons compare with one thread of the same back end, with the next-best back end and
 * with the GPU default.
 */
export function chooseBest(rows: readonly SweepRow[]): TuneChoice {
  const keys: TuneChoice['keys'] = {};
  const reasons: string[] = [];
  const cpu = rows.filter((r) => r.engine === 'cpu' && r.hashesPerSecond > 0);
  if (cpu.length > 0) {
    const top = Math.max(...cpu.map((r) => r.hashesPerSecond));
    const bestAt = (threads: number) => cpu.filter((r) => r.threads === threads).sort((a, b) => b.hashesPerSecond - a.hashesPerSecond);
    const counts = [...new Set(cpu.map((r) => r.threads))].sort((a, b) => a - b);
    const threads = counts.find((t) => (bestAt(t)[0]?.hashesPerSecond ?? 0) >= AS_FAST * top)!;
    const [best, runnerUp] = bestAt(threads);
    keys.threads = threads;
    keys.cpuBackend = best!.backend;
    const one = cpu.find((r) => r.backend === best!.backend && r.threads === 1);
    const most = Math.max(...counts);
    const mostRow = bestAt(most)[0]!;
    let why = `threads ${threads}: ${(best!.hashesPerSecond / 1e6).toFixed(2)} MH/s`;
    if (one && threads > 1) why += `, ${times(best!.hashesPerSecond / one.hashesPerSecond)} one thread`;
    if (threads < most) why += `; ${most} threads reach ${times(mostRow.hashesPerSecond / best!.hashesPerSecond)} of it, within ${Math.round((1 - AS_FAST) * 100)}%: fewer threads leave cores free`;
    reasons.push(why);
    reasons.push(
      runnerUp
        ? `cpuBackend ${best!.backend}: fastest back end at ${threads} thread${threads === 1 ? '' : 's'}, ${times(best!.hashesPerSecond / runnerUp.hashesPerSecond)} ${runnerUp.backend}`
        : `cpuBackend ${best!.backend}: the only back end measured`,
    );
  }
  const gpu = rows.filter((r) => r.engine === 'gpu' && r.tuning !== undefined && r.hashesPerSecond > 0);
  if (gpu.length > 0) {
    const fastest = [...gpu].sort((a, b) => b.hashesPerSecond - a.hashesPerSecond)[0]!;
    const fallback = gpu.find((r) => r.tuning === tuningLabel(DEFAULT_TUNING));
    // The default, proven with, unless another tuning beats it by more than the noise allowance.
    const keep = fallback !== undefined && fallback.hashesPerSecond >= AS_FAST * fastest.hashesPerSecond;
    const best = keep ? fallback : fastest;
    keys.gpuTuning = best.tuning!;
    reasons.push(
      fallback === undefined || fallback === fastest
        ? `gpuTuning "${best.tuning}": the fastest of ${gpu.length} measured`
        : keep
          ? `gpuTuning "${best.tuning}": the default; the fastest, "${fastest.tuning}", is within ${Math.round((1 - AS_FAST) * 100)}% of it (${times(fastest.hashesPerSecond / fallback.hashesPerSecond)})`
          : `gpuTuning "${best.tuning}": ${(best.hashesPerSecond / 1e6).toFixed(2)} MH/s, ${times(best.hashesPerSecond / fallback.hashesPerSecond)} the default (${fallback.tuning})`,
    );
  }
  return { keys, reasons };
}

/** The table's rows as text: engine, back end, threads or tuning, MH/s, and × the group's first row. */
export function sweepTable(): { header: string; line: (row: SweepRow) => string } {
  const firstOf = new Map<string, number>();
  return {
    header: `${'engine'.padEnd(6)} ${'backend'.padEnd(20)} ${'configuration'.padEnd(18)} ${'MH/s'.padStart(9)}  ×first`,
    line(row) {
      const group = `${row.engine}/${row.backend}`;
      if (!firstOf.has(group)) firstOf.set(group, row.hashesPerSecond);
      const base = firstOf.get(group)!;
      const config = row.tuning ?? `${row.threads} thread${row.threads === 1 ? '' : 's'}`;
      const name = row.backend.length > 20 ? `${row.backend.slice(0, 19)}…` : row.backend;
      return `${row.engine.padEnd(6)} ${name.padEnd(20)} ${config.padEnd(18)} ${(row.hashesPerSecond / 1e6).toFixed(2).padStart(9)}  ${base > 0 ? (row.hashesPerSecond / base).toFixed(2) : '-'}`;
    },
  };
}
