// solominer report [--dir <dir>] [--from <time>] [--to <time>] [--json]: a summary of the hourly
// reports of a span of hours (blocks, hash rate, best share, errors).
import type { CommandUnknownOpts } from '@commander-js/extra-typings';

import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';

import { describeDuration, formatDifficulty, formatRate } from '../telemetry/report-schema.js';
import { summarizeReports, type ReportSummary } from '../telemetry/report-summary.js';
import { newCommand, type RunState } from './command-kit.js';
import { UsageError } from './usage-error.js';

/**
 * A time: ISO 8601 (`2026-03-01`, `2026-03-01T14`, `2026-03-01T14:30`, with or without `Z`;
 * without a zone it is UTC, as the report folders are), `now`, or an offset back from now
 * (`-90m`, `-24h`, `-7d`).
 */
export function parseReportTime(flag: string, value: string, now = Date.now()): number {
  const v = value.trim();
  if (v === 'now') return now;
  const rel = /^-(\d+(?:\.\d+)?)([mhd])$/.exec(v);
  if (rel) return now - Number(rel[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 'm' | 'h' | 'd'];
  let iso = v.replace(' ', 'T');
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) iso += 'T00:00:00Z';
  else if (/^\d{4}-\d{2}-\d{2}T\d{2}$/.test(iso)) iso += ':00:00Z';
  else if (/^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(iso)) iso += 'Z';
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(iso) ? Date.parse(iso) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new UsageError(`--${flag}: expected a time such as 2026-03-01T14 (UTC), an ISO 8601 time, now, or -24h/-7d, got ${JSON.stringify(value)}`);
  }
  return ms;
}

function textLines(s: ReportSummary): string[] {
  if (s.hours === 0) return [`no reports in ${s.dir}${s.from || s.to ? ` between ${s.from ?? 'the start'} and ${s.to ?? 'now'}` : ''}`];
  const b = s.blocks;
  const lines = [
    `reports ${s.dir}: ${s.hours} hour(s) ${s.firstHour} .. ${s.lastHour} (UTC), ${s.files} file(s), mining ${describeDuration(s.coveredSeconds)}, ${s.restarts} restart(s)`,
    `hash rate ${formatRate(s.hashesPerSecond)} on average (${s.hashes} hashes)`,
    ...s.engines.map((e) => `  ${e.engine}/${e.backend}: ${formatRate(e.hashesPerSecond)} (${e.hashes} hashes)`),
    `blocks: found ${b.found}, submitted ${b.submitted}, accepted ${b.accepted}, rejected ${b.rejected}` +
      (b.stale + b.duplicate + b.inconclusive + b.unconfirmed > 0 ? `, stale ${b.stale}, duplicate ${b.duplicate}, inconclusive ${b.inconclusive}, unconfirmed ${b.unconfirmed}` : '') +
      (Object.keys(b.rejectReasons).length ? ` (${Object.entries(b.rejectReasons).map(([k, v]) => `${k} ${v}`).join(', ')})` : '') +
      (b.orphaned + b.matured + b.restored > 0 ? `; later orphaned ${b.orphaned}, back in the chain ${b.restored}, matured ${b.matured}` : ''),
    `best share: ${s.bestShare.span === null ? 'none' : formatDifficulty(s.bestShare.span)} in this span, ${s.bestShare.allTime === null ? 'none' : formatDifficulty(s.bestShare.allTime)} of all time (candidates ${b.candidates})`,
    `templates: ${Object.entries(s.templates).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}; work switches ${s.workSwitches}`,
    `node: ${s.node.network ?? '?'} height ${s.node.height ?? '?'}, difficulty ${s.node.networkDifficulty === null ? '?' : formatDifficulty(s.node.networkDifficulty)}`,
    `expected time to a block: ${s.expectedTimeToBlock}`,
    `errors: ${s.errors.total}${s.errors.total ? ` (${Object.entries(s.errors.byKind).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`,
    ...s.errors.last.slice(-3).map((e) => `  ${e.time} ${e.severity} ${e.kind}: ${e.message} -> ${e.action}`),
    ...(s.thermal
      ? [`temperature: hottest ${s.thermal.maxCelsius === null ? '?' : `${s.thermal.maxCelsius} °C`}; ${s.thermal.pauses} pause(s) for heat, ${describeDuration(s.thermal.pausedSeconds)} paused`]
      : []),
    ...(s.nodes.length > 1
      ? s.nodes.map((n) => `  node ${n.node}: templates ${n.templates}, answers ${Object.entries(n.answers).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}, out of use ${n.faults} time(s)`)
      : []),
  ];
  for (const u of s.unreadable) lines.push(`unreadable: ${u}`);
  return lines;
}

export function reportCommand(state: RunState): CommandUnknownOpts {
  const cmd = newCommand('report', 'summarise the hourly report files of a span of hours')
    .option('--dir <dir>', 'report folder (default: ./reports) [SOLOMINER_REPORT_DIR]')
    .option('--from <time>', 'first hour: 2026-03-01T14 (UTC), an ISO 8601 time, now, or -24h/-7d (default: the first report)')
    .option('--to <time>', 'end of the span, same forms (default: now)')
    .option('--json', 'one JSON object on stdout', false);
  cmd.action(async (flags) => {
    state.code = await report(flags);
  });
  return cmd;
}

async function report(flags: { dir?: string | undefined; from?: string | undefined; to?: string | undefined; json: boolean }): Promise<number> {
  const dir = resolve(flags.dir ?? process.env.SOLOMINER_REPORT_DIR ?? 'reports');
  const from = flags.from === undefined ? undefined : parseReportTime('from', flags.from);
  const to = flags.to === undefined ? undefined : parseReportTime('to', flags.to);
  if (from !== undefined && to !== undefined && from >= to) throw new UsageError('--from: expected a time before --to');
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new UsageError(`--dir: expected a report folder, ${dir} is ${st ? 'not a folder' : 'missing'}`);
  const summary = await summarizeReports(dir, { ...(from !== undefined && { from }), ...(to !== undefined && { to }) });
  if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else process.stdout.write(`${textLines(summary).join('\n')}\n`);
  return 0;
}
