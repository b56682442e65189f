// A span of hourly reports summed up (what `solominer report` prints), so an operator need not
// open the files one by one.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { hourFolders, readReport, reportFilesIn } from './hourly-report.js';
import { describeExpectedTime, ERRORS_FILE, type ErrorRecord, type HourReport } from './report-schema.js';

export interface ReportSummary {
  readonly dir: string;
  readonly from: string | null;
  readonly to: string | null;
  /** Hour folders with at least one readable report. */
  readonly hours: number;
  readonly firstHour: string | null;
  readonly lastHour: string | null;
  readonly files: number;
  /** Files that could not be read or are not a known schema version (path: why). */
  readonly unreadable: string[];
  readonly coveredSeconds: number;
  readonly restarts: number;
  readonly hashes: number;
  /** hashes / coveredSeconds: the mean rate while a miner ran. */
  readonly hashesPerSecond: number;
  readonly engines: Array<{ engine: string; backend: string; hashes: number; hashesPerSecond: number }>;
  readonly templates: Record<string, number>;
  readonly workSwitches: number;
  readonly blocks: { candidates: number; found: number; submitted: number; accepted: number; rejected: number; stale: number; duplicate: number; inconclusive: number; unconfirmed: number; orphaned: number; matured: number; restored: number; rejectReasons: Record<string, number>; list: HourReport['blocks']['list'] };
  readonly bestShare: { span: number | null; allTime: number | null };
  readonly node: { height: number | null; networkDifficulty: number | null; network: string | null };
  readonly expectedTimeToBlock: string;
  readonly errors: { total: number; byKind: Record<string, number>; last: ErrorRecord[] };
  /** Temperatures and heat pauses (--max-temp) of the span; null when no hour holds any. */
  readonly thermal: { maxCelsius: number | null; pauses: number; pausedSeconds: number } | null;
  /** Each node's span (mine --node): templates it served, its answers by outcome, times it went out of use. */
  readonly nodes: Array<{ node: string; templates: number; answers: Record<string, number>; faults: number }>;
}

/** Hour folder YYYY/MM/DD/HH → the hour's start (ms). */
function folderStart(key: string): number {
  const [y, m, d, h] = key.split('/').map(Number);
  return Date.UTC(y!, m! - 1, d!, h!);
}

export async function summarizeReports(dir: string, range: { from?: number; to?: number } = {}): Promise<ReportSummary> {
  const folders = (await hourFolders(dir)).filter(([key]) => {
    const start = folderStart(key);
    return (range.from === undefined || start + 3_600_000 > range.from) && (range.to === undefined || start < range.to);
  });
  const unreadable: string[] = [];
  const engines = new Map<string, { engine: string; backend: string; hashes: number }>();
  const templates: Record<string, number> = {};
  const blocks: ReportSummary['blocks'] = { candidates: 0, found: 0, submitted: 0, accepted: 0, rejected: 0, stale: 0, duplicate: 0, inconclusive: 0, unconfirmed: 0, orphaned: 0, matured: 0, restored: 0, rejectReasons: {}, list: [] };
  const errorsByKind: Record<string, number> = {};
  const lastErrors: ErrorRecord[] = [];
  let files = 0;
  let hours = 0;
  let firstHour: string | null = null;
  let lastHour: string | null = null;
  let covered = 0;
  let restarts = 0;
  let hashes = 0;
  let switches = 0;
  let spanBest: number | null = null;
  let allTime: number | null = null;
  let last: HourReport | undefined;
  let errorsTotal = 0;
  let thermal: { maxCelsius: number | null; pauses: number; pausedSeconds: number } | null = null;
  const nodes = new Map<string, { node: string; templates: number; answers: Record<string, number>; faults: number }>();

  for (const [key, path] of folders) {
    let readable = false;
    for (const name of await reportFilesIn(path)) {
      const r = await readReport(join(path, name));
      if (r === undefined) continue;
      if (r instanceof Error) {
        unreadable.push(`${join(path, name)}: ${r.message}`);
        continue;
      }
      readable = true;
      files++;
      covered += r.uptime.coveredSeconds;
      restarts += r.uptime.restarts;
      hashes += r.hashes;
      switches += r.workSwitches.count;
      for (const e of r.engines) {
        const k = `${e.engine}/${e.backend}`;
        const row = engines.get(k) ?? { engine: e.engine, backend: e.backend, hashes: 0 };
        row.hashes += e.hashes;
        engines.set(k, row);
      }
      for (const [k, v] of Object.entries(r.templates.byReason)) templates[k] = (templates[k] ?? 0) + v;
      for (const k of ['candidates', 'found', 'submitted', 'accepted', 'rejected', 'stale', 'duplicate', 'inconclusive', 'unconfirmed'] as const) blocks[k] += r.blocks[k];
      // Absent in files written before the block tracker.
      for (const k of ['orphaned', 'matured', 'restored'] as const) blocks[k] += r.blocks[k] ?? 0;
      for (const [k, v] of Object.entries(r.blocks.rejectReasons)) blocks.rejectReasons[k] = (blocks.rejectReasons[k] ?? 0) + v;
      blocks.list.push(...r.blocks.list);
      if (r.bestShare.hour !== null && (spanBest === null || r.bestShare.hour > spanBest)) spanBest = r.bestShare.hour;
      if (r.bestShare.allTime !== null && (allTime === null || r.bestShare.allTime > allTime)) allTime = r.bestShare.allTime;
      for (const [k, v] of Object.entries(r.errors.byKind)) errorsByKind[k] = (errorsByKind[k] ?? 0) + v;
      errorsTotal += r.errors.total;
      if (r.thermal) {
        const t = (thermal ??= { maxCelsius: null, pauses: 0, pausedSeconds: 0 });
        if (r.thermal.maxCelsius !== null && (t.maxCelsius === null || r.thermal.maxCelsius > t.maxCelsius)) t.maxCelsius = r.thermal.maxCelsius;
        t.pauses += r.thermal.pauses;
        t.pausedSeconds = Math.round((t.pausedSeconds + r.thermal.pausedSeconds) * 10) / 10;
      }
      for (const n of r.nodes ?? []) {
        const row = nodes.get(n.node) ?? { node: n.node, templates: 0, answers: {}, faults: 0 };
        row.templates += n.templates;
        row.faults += n.faults;
        for (const [k, v] of Object.entries(n.answers)) row.answers[k] = (row.answers[k] ?? 0) + v;
        nodes.set(n.node, row);
      }
      if (!last || r.writtenAt >= last.writtenAt) last = r;
    }
    // errors.jsonl: the last few lines of the span, for a glance at what went wrong
    try {
      const text = await readFile(join(path, ERRORS_FILE), 'utf8');
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        try {
          lastErrors.push(JSON.parse(line) as ErrorRecord);
          if (lastErrors.length > 10) lastErrors.shift();
        } catch {
          // a torn last line (crash mid-append) is skipped
        }
      }
    } catch {
      // no errors that hour
    }
    if (readable) {
      hours++;
      firstHour ??= key;
      lastHour = key;
    }
  }
  const rate = covered > 0 ? hashes / covered : 0;
  blocks.list.sort((a, b) => a.time.localeCompare(b.time));
  return {
    dir,
    from: range.from === undefined ? null : new Date(range.from).toISOString(),
    to: range.to === undefined ? null : new Date(range.to).toISOString(),
    hours,
    firstHour,
    lastHour,
    files,
    unreadable,
    coveredSeconds: Math.round(covered * 10) / 10,
    restarts,
    hashes,
    hashesPerSecond: Math.round(rate * 10) / 10,
    engines: [...engines.values()].map((e) => ({ ...e, hashesPerSecond: covered > 0 ? Math.round((e.hashes / covered) * 10) / 10 : 0 })),
    templates,
    workSwitches: switches,
    blocks,
    bestShare: { span: spanBest, allTime },
    node: { height: last?.node.height ?? null, networkDifficulty: last?.node.networkDifficulty ?? null, network: last?.network ?? null },
    expectedTimeToBlock: last ? describeExpectedTime(last.network, last.node.networkDifficulty, rate) : 'unknown (no reports)',
    errors: { total: errorsTotal, byKind: errorsByKind, last: lastErrors },
    thermal,
    nodes: [...nodes.values()],
  };
}
