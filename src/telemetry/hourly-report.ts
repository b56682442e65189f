// Hourly report files (schema and layout: report-schema.ts). `HourAccumulator` holds one hour's
// counts in memory (the miner's events add to it; nothing per hash); `HourlyReports` writes the
// current hour atomically on a periodic flush and at shutdown, finalizes an hour when the clock
// passes its end, appends errors to the hour's errors.jsonl, and survives a report directory it
// cannot write (it keeps the counts, says so once, and retries at every flush).
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import {
  chancePerHour,
  describeExpectedTime,
  ERRORS_FILE,
  expectedSecondsToBlock,
  hourDir,
  hourReportSchema,
  hourStartMs,
  REPORT_FILE,
  REPORT_SCHEMA,
  REPORT_SCHEMA_VERSION,
  type BlockRow,
  type BlockTransitionRow,
  type ErrorRecord,
  type HourReport,
  type NodeHour,
  type StratumWorkerRow,
  type ThermalHour,
} from './report-schema.js';
import { percentile } from './run-tally.js';

const HOUR_MS = 3_600_000;
const SAMPLE_CAP = 1024;
const BLOCK_LIST_CAP = 1000;
const PENDING_ERRORS_CAP = 10_000;
const OUTCOMES = ['accepted', 'rejected', 'stale', 'duplicate', 'inconclusive', 'unconfirmed'] as const;
type CountedOutcome = (typeof OUTCOMES)[number];

/** What the reports need from the live miner when they write (not per-hour counts). */
export interface ReportContext {
  readonly network: string;
  readonly runStartedAt: number;
  readonly nodeHeight: number | null;
  readonly tip: string | null;
  readonly networkDifficulty: number | null;
  readonly nodeReachable: boolean;
  /** When the running pause for heat began (ms since the epoch); null while not paused. */
  readonly throttledSince?: number | null;
  /** The configured nodes now (mining from nodes). */
  readonly nodes?: ReadonlyArray<{ readonly node: string; readonly state: string; readonly height: number | null }>;
}

/** A bounded uniform sample (reservoir): percentiles of an hour without keeping every value. */
class Reservoir {
  values: number[] = [];
  seen = 0;
  add(v: number): void {
    this.seen++;
    if (this.values.length < SAMPLE_CAP) this.values.push(v);
    else {
      const i = Math.floor(Math.random() * this.seen);
      if (i < SAMPLE_CAP) this.values[i] = v;
    }
  }
  merge(values: readonly number[], seen: number): void {
    const all = [...this.values, ...values];
    this.seen += seen;
    while (all.length > SAMPLE_CAP) all.splice(Math.floor(Math.random() * all.length), 1);
    this.values = all;
  }
}

function quantile(values: readonly number[], fraction: number): number | null {
  return values.length === 0 ? null : percentile(values, fraction);
}

const round = (v: number, digits = 3) => Number(v.toFixed(digits));

/** One hour's counts. Everything is additive, so a restart merges the file's counts into it. */
export class HourAccumulator {
  readonly hourStart: number;
  readonly hourEnd: number;
  readonly engines = new Map<string, { engine: string; backend: string; hashes: number }>();
  readonly templates: Record<string, number> = {};
  switches = 0;
  newTips = 0;
  readonly latency = new Reservoir();
  readonly overhead = new Reservoir();
  bestShare: number | null = null;
  bestShareHash: string | null = null;
  readonly blocks = { candidates: 0, found: 0, submitted: 0, accepted: 0, rejected: 0, stale: 0, duplicate: 0, inconclusive: 0, unconfirmed: 0 };
  readonly rejectReasons: Record<string, number> = {};
  readonly blockList: BlockRow[] = [];
  /** Blocks orphaned, matured, restored and isolated this hour (kept apart: older files lack them). */
  readonly chainEvents = { orphaned: 0, matured: 0, restored: 0, isolated: 0 };
  /** Each node's hour, by RPC URL. */
  readonly nodes = new Map<string, { templates: number; answers: Record<string, number>; faults: number }>();
  readonly transitions: BlockTransitionRow[] = [];
  readonly errorsByKind: Record<string, number> = {};
  /** Seconds covered by earlier runs (merged from the file). */
  coveredBefore = 0;
  restarts = 0;
  readonly runStarts: string[] = [];
  /** The Stratum pool's hour; undefined while it saw nothing. */
  stratum:
    | { sharesAccepted: number; sharesRejected: Record<string, number>; connectionsMax: number; workers: Map<string, StratumWorkerRow>; byProtocol: Record<string, { sharesAccepted: number; sharesRejected: number }> }
    | undefined;
  /** Temperatures and heat pauses; undefined while no sensor was read this hour. */
  thermal: { sensors: Map<string, { sensor: string; kind: string; maxCelsius: number }>; pauses: number; pausedMs: number } | undefined;
  /** The file this hour is written to, once chosen (report.json or a sibling report-<n>.json). */
  target: string | undefined;

  constructor(ms: number, runStartedAt: number) {
    this.hourStart = hourStartMs(ms);
    this.hourEnd = this.hourStart + HOUR_MS;
    this.runStarts.push(new Date(Math.max(runStartedAt, this.hourStart)).toISOString());
  }

  addHashes(engine: string, backend: string, hashes: number): void {
    const key = `${engine}/${backend}`;
    let row = this.engines.get(key);
    if (!row) this.engines.set(key, (row = { engine, backend, hashes: 0 }));
    row.hashes += hashes;
  }

  get hashes(): number {
    let total = 0;
    for (const e of this.engines.values()) total += e.hashes;
    return total;
  }

  share(difficulty: number, hash?: string): void {
    this.blocks.candidates++;
    if (this.bestShare === null || difficulty > this.bestShare) {
      this.bestShare = difficulty;
      this.bestShareHash = hash ?? null;
    }
  }

  private pool(): NonNullable<HourAccumulator['stratum']> {
    this.stratum ??= { sharesAccepted: 0, sharesRejected: {}, connectionsMax: 0, workers: new Map(), byProtocol: {} };
    return this.stratum;
  }

  private poolWorker(name: string, address: string): StratumWorkerRow {
    const pool = this.pool();
    let w = pool.workers.get(name);
    if (!w) pool.workers.set(name, (w = { name, address, sharesAccepted: 0, acceptedDifficulty: 0, sharesRejected: {}, bestShare: null, blocksFound: 0 }));
    return w;
  }

  /** A Stratum share: accepted (worth `owed`, its own difficulty `difficulty`) or rejected for `reason`. */
  stratumShare(name: string | undefined, address: string | undefined, accepted: boolean, owed: number, difficulty: number, reason?: string, protocol = 'v1'): void {
    const pool = this.pool();
    if (accepted) pool.sharesAccepted++;
    else pool.sharesRejected[reason ?? 'other'] = (pool.sharesRejected[reason ?? 'other'] ?? 0) + 1;
    const wire = (pool.byProtocol[protocol] ??= { sharesAccepted: 0, sharesRejected: 0 });
    if (accepted) wire.sharesAccepted++;
    else wire.sharesRejected++;
    if (name === undefined) return;
    const w = this.poolWorker(name, address ?? '');
    if (accepted) {
      w.sharesAccepted++;
      w.acceptedDifficulty += owed;
      if (w.bestShare === null || difficulty > w.bestShare) w.bestShare = difficulty;
    } else {
      w.sharesRejected[reason ?? 'other'] = (w.sharesRejected[reason ?? 'other'] ?? 0) + 1;
    }
  }

  /** The pool mined through (mine --pool). */
  upstream: { sharesAccepted: number; sharesRejected: Record<string, number>; reconnects: number } | undefined;

  private upstreamHour(): NonNullable<HourAccumulator['upstream']> {
    this.upstream ??= { sharesAccepted: 0, sharesRejected: {}, reconnects: 0 };
    return this.upstream;
  }

  upstreamShare(accepted: boolean, reason: string): void {
    const u = this.upstreamHour();
    if (accepted) u.sharesAccepted++;
    else u.sharesRejected[reason] = (u.sharesRejected[reason] ?? 0) + 1;
  }

  upstreamReconnect(): void {
    this.upstreamHour().reconnects++;
  }

  stratumConnections(open: number): void {
    const pool = this.pool();
    if (open > pool.connectionsMax) pool.connectionsMax = open;
  }

  stratumBlock(name: string, address: string): void {
    this.poolWorker(name, address).blocksFound++;
  }

  private heat(): NonNullable<HourAccumulator['thermal']> {
    this.thermal ??= { sensors: new Map(), pauses: 0, pausedMs: 0 };
    return this.thermal;
  }

  /** A poll's readings: each sensor's hottest of the hour is kept. */
  temperatures(readings: ReadonlyArray<{ sensor: string; kind: string; celsius: number }>): void {
    const t = this.heat();
    for (const r of readings) {
      const row = t.sensors.get(r.sensor);
      if (row === undefined) t.sensors.set(r.sensor, { sensor: r.sensor, kind: r.kind, maxCelsius: r.celsius });
      else if (r.celsius > row.maxCelsius) row.maxCelsius = r.celsius;
    }
  }

  /** A pause for heat began. */
  thermalPause(): void {
    this.heat().pauses++;
  }

  /** A pause ended: `ms` of it fell within this hour (the rest was counted by the hour before). */
  thermalPaused(ms: number): void {
    this.heat().pausedMs += Math.max(0, ms);
  }

  /** The hour's `nodes` section: every node configured now, and those of earlier runs of the hour. */
  private nodesReport(ctx: ReportContext): { nodes?: NodeHour[] } {
    const now = ctx.nodes ?? [];
    if (now.length === 0 && this.nodes.size === 0) return {};
    const names = [...now.map((n) => n.node), ...[...this.nodes.keys()].filter((k) => !now.some((n) => n.node === k))];
    return {
      nodes: names.map((name) => {
        const row = this.nodes.get(name) ?? { templates: 0, answers: {}, faults: 0 };
        const live = now.find((n) => n.node === name);
        return { node: name, templates: row.templates, answers: { ...row.answers }, faults: row.faults, state: live?.state ?? null, height: live?.height ?? null };
      }),
    };
  }

  /** The hour's `thermal` section; a running pause counts up to `now` (or the hour's end). */
  private thermalReport(now: number, throttledSince: number | null): { thermal?: ThermalHour } {
    const running = throttledSince === null ? 0 : Math.max(0, Math.min(now, this.hourEnd) - Math.max(throttledSince, this.hourStart));
    if (this.thermal === undefined && running === 0) return {};
    const t = this.thermal ?? { sensors: new Map(), pauses: 0, pausedMs: 0 };
    const sensors = [...t.sensors.values()].map((x) => ({ ...x }));
    return {
      thermal: {
        sensors,
        maxCelsius: sensors.length > 0 ? Math.max(...sensors.map((x) => x.maxCelsius)) : null,
        pauses: t.pauses,
        pausedSeconds: round((t.pausedMs + running) / 1000, 1),
      },
    };
  }

  outcome(row: BlockRow): void {
    this.blocks.submitted++;
    if ((OUTCOMES as readonly string[]).includes(row.outcome)) this.blocks[row.outcome as CountedOutcome]++;
    if (row.outcome === 'rejected') this.rejectReasons[row.reason ?? 'unknown'] = (this.rejectReasons[row.reason ?? 'unknown'] ?? 0) + 1;
    if (this.blockList.length < BLOCK_LIST_CAP) this.blockList.push(row);
  }

  transition(row: BlockTransitionRow): void {
    if (this.transitions.length < BLOCK_LIST_CAP) this.transitions.push(row);
  }

  chainEvent(event: keyof HourAccumulator['chainEvents']): void {
    this.chainEvents[event]++;
  }

  /** A node's counts this hour. */
  node(name: string): { templates: number; answers: Record<string, number>; faults: number } {
    let row = this.nodes.get(name);
    if (!row) this.nodes.set(name, (row = { templates: 0, answers: {}, faults: 0 }));
    return row;
  }

  /** Adds the counts of an earlier run's file of the same hour. */
  merge(r: HourReport): void {
    for (const e of r.engines) this.addHashes(e.engine, e.backend, e.hashes);
    for (const [k, v] of Object.entries(r.templates.byReason)) this.templates[k] = (this.templates[k] ?? 0) + v;
    this.switches += r.workSwitches.count;
    this.newTips += r.workSwitches.newTip;
    this.latency.merge(r.workSwitches.sampleMs, r.workSwitches.count);
    this.overhead.merge(r.workSwitches.overheadSampleMs, r.workSwitches.count);
    if (r.bestShare.hour !== null && (this.bestShare === null || r.bestShare.hour > this.bestShare)) {
      this.bestShare = r.bestShare.hour;
      this.bestShareHash = r.bestShare.hourHash;
    }
    for (const k of Object.keys(this.blocks) as Array<keyof HourAccumulator['blocks']>) this.blocks[k] += r.blocks[k];
    for (const [k, v] of Object.entries(r.blocks.rejectReasons)) this.rejectReasons[k] = (this.rejectReasons[k] ?? 0) + v;
    this.blockList.unshift(...r.blocks.list);
    for (const k of Object.keys(this.chainEvents) as Array<keyof HourAccumulator['chainEvents']>) this.chainEvents[k] += r.blocks[k] ?? 0;
    this.transitions.unshift(...(r.blocks.transitions ?? []));
    for (const [k, v] of Object.entries(r.errors.byKind)) this.errorsByKind[k] = (this.errorsByKind[k] ?? 0) + v;
    this.coveredBefore += r.uptime.coveredSeconds;
    this.restarts += r.uptime.restarts + 1;
    this.runStarts.unshift(...r.uptime.runStarts);
    if (r.upstream) {
      const u = this.upstreamHour();
      u.sharesAccepted += r.upstream.sharesAccepted;
      u.reconnects += r.upstream.reconnects;
      for (const [k, v] of Object.entries(r.upstream.sharesRejected)) u.sharesRejected[k] = (u.sharesRejected[k] ?? 0) + v;
    }
    for (const n of r.nodes ?? []) {
      const row = this.node(n.node);
      row.templates += n.templates;
      row.faults += n.faults;
      for (const [k, v] of Object.entries(n.answers)) row.answers[k] = (row.answers[k] ?? 0) + v;
    }
    if (r.thermal) {
      this.temperatures(r.thermal.sensors.map((x) => ({ sensor: x.sensor, kind: x.kind, celsius: x.maxCelsius })));
      this.heat().pauses += r.thermal.pauses;
      this.thermalPaused(r.thermal.pausedSeconds * 1000);
    }
    if (r.stratum) {
      const pool = this.pool();
      pool.sharesAccepted += r.stratum.sharesAccepted;
      for (const [k, v] of Object.entries(r.stratum.sharesRejected)) pool.sharesRejected[k] = (pool.sharesRejected[k] ?? 0) + v;
      pool.connectionsMax = Math.max(pool.connectionsMax, r.stratum.connectionsMax);
      for (const [k, v] of Object.entries(r.stratum.byProtocol ?? {})) {
        const wire = (pool.byProtocol[k] ??= { sharesAccepted: 0, sharesRejected: 0 });
        wire.sharesAccepted += v.sharesAccepted;
        wire.sharesRejected += v.sharesRejected;
      }
      for (const row of r.stratum.workers) {
        const w = this.poolWorker(row.name, row.address);
        w.sharesAccepted += row.sharesAccepted;
        w.acceptedDifficulty += row.acceptedDifficulty;
        for (const [k, v] of Object.entries(row.sharesRejected)) w.sharesRejected[k] = (w.sharesRejected[k] ?? 0) + v;
        if (row.bestShare !== null && (w.bestShare === null || row.bestShare > w.bestShare)) w.bestShare = row.bestShare;
        w.blocksFound += row.blocksFound;
      }
    }
  }

  coveredSeconds(now: number, runStartedAt: number): number {
    const from = Math.max(runStartedAt, this.hourStart);
    const to = Math.min(now, this.hourEnd);
    return this.coveredBefore + Math.max(0, to - from) / 1000;
  }

  toReport(now: number, ctx: ReportContext, allTimeBest: number | null, complete: boolean): HourReport {
    const covered = this.coveredSeconds(now, ctx.runStartedAt);
    const rate = (h: number) => (covered > 0 ? round(h / covered, 1) : 0);
    const hashes = this.hashes;
    const hashesPerSecond = rate(hashes);
    const seconds = expectedSecondsToBlock(ctx.networkDifficulty, hashesPerSecond);
    const lat = (r: Reservoir) => {
      const p50 = quantile(r.values, 0.5);
      const p99 = quantile(r.values, 0.99);
      const max = r.values.length ? Math.max(...r.values) : null;
      return { p50: p50 === null ? null : round(p50), p99: p99 === null ? null : round(p99), max: max === null ? null : round(max) };
    };
    const best = [allTimeBest, this.bestShare].filter((v): v is number => v !== null);
    return {
      schema: REPORT_SCHEMA,
      version: REPORT_SCHEMA_VERSION,
      hourStart: new Date(this.hourStart).toISOString(),
      hourEnd: new Date(this.hourEnd).toISOString(),
      writtenAt: new Date(now).toISOString(),
      complete,
      network: ctx.network,
      uptime: {
        runStartedAt: new Date(ctx.runStartedAt).toISOString(),
        runSeconds: round(Math.max(0, now - ctx.runStartedAt) / 1000, 1),
        coveredSeconds: round(covered, 1),
        restarts: this.restarts,
        runStarts: [...this.runStarts],
      },
      hashes,
      hashesPerSecond,
      engines: [...this.engines.values()].map((e) => ({ engine: e.engine, backend: e.backend, hashes: e.hashes, hashesPerSecond: rate(e.hashes) })),
      templates: { total: Object.values(this.templates).reduce((a, b) => a + b, 0), byReason: { ...this.templates } },
      workSwitches: {
        count: this.switches,
        newTip: this.newTips,
        latencyMs: lat(this.latency),
        overheadMs: lat(this.overhead),
        sampleMs: this.latency.values.map((v) => round(v)),
        overheadSampleMs: this.overhead.values.map((v) => round(v)),
      },
      bestShare: { hour: this.bestShare, hourHash: this.bestShareHash, allTime: best.length ? Math.max(...best) : null },
      blocks: { ...this.blocks, rejectReasons: { ...this.rejectReasons }, list: [...this.blockList], ...this.chainEvents, transitions: [...this.transitions] },
      node: { height: ctx.nodeHeight, tip: ctx.tip, networkDifficulty: ctx.networkDifficulty, reachable: ctx.nodeReachable },
      expectedTimeToBlock: {
        seconds: seconds === null ? null : Number(seconds.toPrecision(6)),
        chancePerHour: chancePerHour(seconds),
        text: describeExpectedTime(ctx.network, ctx.networkDifficulty, hashesPerSecond),
      },
      errors: { total: Object.values(this.errorsByKind).reduce((a, b) => a + b, 0), byKind: { ...this.errorsByKind } },
      ...(this.upstream && { upstream: { ...this.upstream, sharesRejected: { ...this.upstream.sharesRejected } } }),
      ...this.thermalReport(now, ctx.throttledSince ?? null),
      ...this.nodesReport(ctx),
      ...(this.stratum && {
        stratum: {
          sharesAccepted: this.stratum.sharesAccepted,
          sharesRejected: { ...this.stratum.sharesRejected },
          connectionsMax: this.stratum.connectionsMax,
          workers: [...this.stratum.workers.values()].map((w) => ({ ...w, sharesRejected: { ...w.sharesRejected } })),
          ...(Object.keys(this.stratum.byProtocol).length > 0 && { byProtocol: Object.fromEntries(Object.entries(this.stratum.byProtocol).map(([k, v]) => [k, { ...v }])) }),
        },
      }),
    };
  }
}

/** Writes `data` to `path` so that a reader sees the old file or the new one, never a torn one. */
export async function writeFileAtomic(path: string, data: string, mode?: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dirname(path));
}

async function syncDir(dir: string): Promise<void> {
  let dh;
  try {
    dh = await open(dir, 'r');
    await dh.sync();
  } catch {
    // Some file systems cannot fsync a directory; the file itself is synced.
  } finally {
    await dh?.close().catch(() => undefined);
  }
}

/** Reads and validates one report file; undefined when absent, an Error when unusable. */
export async function readReport(path: string): Promise<HourReport | Error | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return err as Error;
  }
  try {
    const parsed = hourReportSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : new Error(`${path}: not a version ${REPORT_SCHEMA_VERSION} report (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`);
  } catch (err) {
    return new Error(`${path}: ${(err as Error).message}`);
  }
}

/** report.json, report-1.json, ... in a folder, in that order. */
export async function reportFilesIn(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const index = (n: string) => (n === REPORT_FILE ? 0 : Number(/^report-(\d+)\.json$/.exec(n)?.[1] ?? Number.NaN));
  return names.filter((n) => Number.isFinite(index(n))).sort((a, b) => index(a) - index(b));
}

async function sortedEntries(dir: string, re: RegExp): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => re.test(n)).sort();
  } catch {
    return [];
  }
}

/** Every hour folder under `dir` as [YYYY/MM/DD/HH, path], oldest first. */
export async function hourFolders(dir: string): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for (const y of await sortedEntries(dir, /^\d{4}$/))
    for (const m of await sortedEntries(join(dir, y), /^\d{2}$/))
      for (const d of await sortedEntries(join(dir, y, m), /^\d{2}$/))
        for (const h of await sortedEntries(join(dir, y, m, d), /^\d{2}$/)) out.push([`${y}/${m}/${d}/${h}`, join(dir, y, m, d, h)]);
  return out;
}

/** The best share of all time recorded in the newest hour that has a readable report. */
export async function allTimeBestShare(dir: string): Promise<number | null> {
  const folders = await hourFolders(dir);
  for (let i = folders.length - 1; i >= 0; i--) {
    let best: number | null = null;
    let found = false;
    for (const name of await reportFilesIn(folders[i]![1])) {
      const r = await readReport(join(folders[i]![1], name));
      if (r && !(r instanceof Error)) {
        found = true;
        if (r.bestShare.allTime !== null && (best === null || r.bestShare.allTime > best)) best = r.bestShare.allTime;
      }
    }
    if (found) return best;
  }
  return null;
}

export interface ReportWriteState {
  readonly dir: string;
  readonly ok: boolean;
  readonly lastWriteAt: string | null;
  readonly error: string | null;
  readonly errorSince: string | null;
}

export interface HourlyReportsOptions {
  readonly dir: string;
  readonly runStartedAt: number;
  readonly context: () => ReportContext;
  /** Periodic flush of the current hour (default 60 s). */
  readonly flushIntervalMs?: number;
  readonly now?: () => number;
  /** Called when writing starts failing (with the error) or works again (with null). */
  readonly onWriteState?: (error: Error | null) => void;
}

export class HourlyReports {
  private readonly options: HourlyReportsOptions;
  private readonly now: () => number;
  private acc: HourAccumulator;
  /** Finished hours not yet written with complete: true. */
  private readonly finished: HourAccumulator[] = [];
  private readonly pendingErrors: Array<{ dir: string; line: string }> = [];
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private allTime: number | null = null;
  private ok = true;
  private lastWriteAt: number | null = null;
  private lastError: Error | null = null;
  private errorSince: number | null = null;
  private closed = false;

  constructor(options: HourlyReportsOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.acc = new HourAccumulator(this.now(), options.runStartedAt);
  }

  /** Reads the best share of all time and starts the periodic flush. */
  async start(): Promise<void> {
    this.allTime = await allTimeBestShare(this.options.dir).catch(() => null);
    await this.flush();
    const every = this.options.flushIntervalMs ?? 60_000;
    this.timer = setInterval(() => void this.flush(), every);
    this.timer.unref();
  }

  /** The current hour's counts; passing an hour's end finalizes that hour first. */
  current(): HourAccumulator {
    const now = this.now();
    if (now >= this.acc.hourEnd) {
      this.finished.push(this.acc);
      this.acc = new HourAccumulator(now, this.options.runStartedAt);
      void this.flush();
    }
    return this.acc;
  }

  get allTimeBest(): number | null {
    const h = this.acc.bestShare;
    if (h === null) return this.allTime;
    return this.allTime === null ? h : Math.max(this.allTime, h);
  }

  noteShare(difficulty: number): void {
    if (this.allTime === null || difficulty > this.allTime) this.allTime = difficulty;
  }

  error(record: ErrorRecord): void {
    const acc = this.current();
    acc.errorsByKind[record.kind] = (acc.errorsByKind[record.kind] ?? 0) + 1;
    if (this.pendingErrors.length < PENDING_ERRORS_CAP) {
      this.pendingErrors.push({ dir: hourDir(this.options.dir, Date.parse(record.time) || this.now()), line: `${JSON.stringify(record)}\n` });
    }
    if (!this.closed) this.chain = this.chain.then(() => this.writeErrors().catch((err: unknown) => this.failed(err as Error)));
  }

  get state(): ReportWriteState {
    return {
      dir: this.options.dir,
      ok: this.ok,
      lastWriteAt: this.lastWriteAt === null ? null : new Date(this.lastWriteAt).toISOString(),
      error: this.lastError?.message ?? null,
      errorSince: this.errorSince === null ? null : new Date(this.errorSince).toISOString(),
    };
  }

  /** Writes finished hours (complete) and the current one; resolves when done or failed. */
  flush(): Promise<void> {
    this.current();
    this.chain = this.chain.then(() => this.writeAll().catch((err: unknown) => this.failed(err as Error)));
    return this.chain;
  }

  /** Final flush (shutdown). */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
    this.closed = true;
  }

  /** The report the current hour would be written as now. */
  currentReport(): HourReport {
    return this.current().toReport(this.now(), this.options.context(), this.allTimeBest, false);
  }

  private async writeAll(): Promise<void> {
    while (this.finished.length > 0) {
      const acc = this.finished[0]!;
      await this.writeHour(acc, true);
      this.finished.shift();
    }
    await this.writeHour(this.acc, false);
    await this.writeErrors();
    this.lastWriteAt = this.now();
    if (!this.ok) {
      this.ok = true;
      this.lastError = null;
      this.errorSince = null;
      this.options.onWriteState?.(null);
    }
  }

  private async writeHour(acc: HourAccumulator, complete: boolean): Promise<void> {
    const dir = hourDir(this.options.dir, acc.hourStart);
    await mkdir(dir, { recursive: true });
    if (acc.target === undefined) acc.target = await this.chooseTarget(dir, acc);
    const report = acc.toReport(complete ? acc.hourEnd : this.now(), this.options.context(), this.allTimeBest, complete);
    if (complete) report.writtenAt = new Date(this.now()).toISOString();
    await writeFileAtomic(join(dir, acc.target), `${JSON.stringify(report, null, 2)}\n`);
  }

  /**
   * The file for an hour this run has not written yet: the last existing report of the hour if
   * it is readable and not complete (its counts are merged in: a restart within the hour), else
   * the next free name (a complete or unreadable file is never overwritten).
   */
  private async chooseTarget(dir: string, acc: HourAccumulator): Promise<string> {
    const files = await reportFilesIn(dir);
    const last = files.at(-1);
    if (last !== undefined) {
      const r = await readReport(join(dir, last));
      if (r && !(r instanceof Error) && !r.complete) {
        acc.merge(r);
        if (r.bestShare.allTime !== null) this.noteShare(r.bestShare.allTime);
        return last;
      }
    }
    for (let n = files.length === 0 ? 0 : 1; ; n++) {
      const name = n === 0 ? REPORT_FILE : `report-${n}.json`;
      if (!files.includes(name)) return name;
    }
  }

  private async writeErrors(): Promise<void> {
    while (this.pendingErrors.length > 0) {
      const dir = this.pendingErrors[0]!.dir;
      const batch = this.pendingErrors.filter((e) => e.dir === dir);
      await mkdir(dir, { recursive: true });
      await appendFile(join(dir, ERRORS_FILE), batch.map((e) => e.line).join(''));
      for (let i = this.pendingErrors.length - 1; i >= 0; i--) if (this.pendingErrors[i]!.dir === dir) this.pendingErrors.splice(i, 1);
    }
  }

  private failed(err: Error): void {
    const first = this.ok;
    this.ok = false;
    this.lastError = err;
    if (first) {
      this.errorSince = this.now();
      this.options.onWriteState?.(err);
    }
  }
}
