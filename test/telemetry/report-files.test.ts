// Hourly report files: atomic writes at YYYY/MM/DD/HH, merging a restart within the hour, a
// finished hour never overwritten, an unwritable report directory survived, errors.jsonl, and
// the summary `solominer report` prints.
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { HourlyReports, type ReportContext } from '../../src/telemetry/hourly-report.js';
import { summarizeReports } from '../../src/telemetry/report-summary.js';
import {
  describeExpectedTime,
  expectedSecondsToBlock,
  hourDir,
  hourKey,
  hourReportSchema,
  type HourReport,
} from '../../src/telemetry/report-schema.js';
import { parseReportTime } from '../../src/cli/report-command.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/files.js';

const T0 = Date.UTC(2026, 2, 1, 14, 10, 0); // 2026-03-01 14:10 UTC

function context(runStartedAt: number): () => ReportContext {
  return () => ({ network: 'regtest', runStartedAt, nodeHeight: 7, tip: 'ab'.repeat(32), networkDifficulty: 4.656542373906925e-10, nodeReachable: true });
}

function clock(start: number) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms), set: (ms: number) => (t = ms) };
}

async function readHour(dir: string, ms: number, name = 'report.json'): Promise<HourReport> {
  return hourReportSchema.parse(JSON.parse(await readFile(join(hourDir(dir, ms), name), 'utf8')));
}

function reports(dir: string, c: ReturnType<typeof clock>, extra: Partial<ConstructorParameters<typeof HourlyReports>[0]> = {}) {
  const runStartedAt = c.now();
  return new HourlyReports({ dir, runStartedAt, context: context(runStartedAt), now: c.now, flushIntervalMs: 3_600_000, ...extra });
}

describe('hourly report files', { timeout: 60_000 }, () => {
  it('writes YYYY/MM/DD/HH/report.json (UTC) in the documented schema, with no temp file left', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const c = clock(T0);
      const r = reports(dir, c);
      await r.start();
      const acc = r.current();
      acc.addHashes('cpu', 'avx512', 6_000_000);
      acc.templates.zmq = 2;
      acc.templates.initial = 1;
      acc.switches = 3;
      acc.latency.add(2);
      acc.latency.add(4);
      acc.share(3.5, '00'.repeat(32));
      acc.blocks.found++;
      acc.outcome({ time: new Date(T0).toISOString(), height: 8, hash: 'cd'.repeat(32), engine: 'cpu', backend: 'avx512', outcome: 'accepted' });
      c.advance(60_000);
      await r.close();
      assert.equal(hourKey(T0), '2026/03/01/14');
      const names = await readdir(hourDir(dir, T0));
      assert.deepEqual(names, ['report.json']);
      const rep = await readHour(dir, T0);
      assert.equal(rep.schema, 'solominer.hourly-report');
      assert.equal(rep.version, 1);
      assert.equal(rep.hourStart, '2026-03-01T14:00:00.000Z');
      assert.equal(rep.complete, false);
      assert.equal(rep.hashes, 6_000_000);
      assert.deepEqual(rep.engines, [{ engine: 'cpu', backend: 'avx512', hashes: 6_000_000, hashesPerSecond: 100_000 }]);
      assert.equal(rep.uptime.coveredSeconds, 60);
      assert.deepEqual(rep.templates, { total: 3, byReason: { zmq: 2, initial: 1 } });
      assert.equal(rep.workSwitches.latencyMs.p50, 2);
      assert.equal(rep.workSwitches.latencyMs.p99, 4);
      assert.equal(rep.bestShare.hour, 3.5);
      assert.equal(rep.bestShare.allTime, 3.5);
      assert.equal(rep.blocks.accepted, 1);
      assert.equal(rep.blocks.list[0]!.height, 8);
      assert.ok(rep.expectedTimeToBlock.seconds! > 0 && rep.expectedTimeToBlock.seconds! < 1);
    } finally {
      await cleanup();
    }
  });

  it('a restart within the hour merges the first run\'s counts instead of losing them', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const c = clock(T0);
      const first = reports(dir, c);
      await first.start();
      first.current().addHashes('cpu', 'sha-ni', 1000);
      first.current().share(10);
      first.current().outcome({ time: 't', height: 1, hash: 'a', engine: 'cpu', backend: 'sha-ni', outcome: 'accepted' });
      c.advance(10_000);
      await first.close();

      c.advance(5_000);
      const second = reports(dir, c);
      await second.start();
      second.current().addHashes('cpu', 'sha-ni', 500);
      second.current().share(2);
      second.current().outcome({ time: 't', height: 2, hash: 'b', engine: 'cpu', backend: 'sha-ni', outcome: 'rejected', reason: 'bad-txnmrklroot' });
      c.advance(10_000);
      await second.close();

      assert.deepEqual(await readdir(hourDir(dir, T0)), ['report.json']);
      const rep = await readHour(dir, T0);
      assert.equal(rep.hashes, 1500);
      assert.equal(rep.uptime.restarts, 1);
      assert.equal(rep.uptime.runStarts.length, 2);
      assert.equal(rep.uptime.coveredSeconds, 20);
      assert.equal(rep.bestShare.hour, 10);
      assert.equal(rep.blocks.accepted, 1);
      assert.equal(rep.blocks.rejected, 1);
      assert.deepEqual(rep.blocks.rejectReasons, { 'bad-txnmrklroot': 1 });
      assert.deepEqual(rep.blocks.list.map((b) => b.height), [1, 2]);
    } finally {
      await cleanup();
    }
  });

  it('at the end of the hour the hour is finalized (complete) and never overwritten; a late writer gets a sibling', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const c = clock(T0);
      const r = reports(dir, c);
      await r.start();
      r.current().addHashes('cpu', 'scalar', 100);
      c.set(Date.UTC(2026, 2, 1, 15, 0, 30)); // 30 s into the next hour
      r.current().addHashes('cpu', 'scalar', 7);
      await r.close();
      const done = await readHour(dir, T0);
      assert.equal(done.complete, true);
      assert.equal(done.hashes, 100);
      assert.equal(done.uptime.coveredSeconds, 50 * 60);
      const next = await readHour(dir, Date.UTC(2026, 2, 1, 15));
      assert.equal(next.complete, false);
      assert.equal(next.hashes, 7);
      assert.equal(next.uptime.coveredSeconds, 30);
      assert.equal(next.bestShare.allTime, null);

      // A miner whose clock says 14:xx again must not touch the complete file.
      const before = await readFile(join(hourDir(dir, T0), 'report.json'), 'utf8');
      const late = reports(dir, clock(Date.UTC(2026, 2, 1, 14, 59)));
      await late.start();
      late.current().addHashes('cpu', 'scalar', 1);
      await late.close();
      assert.equal(await readFile(join(hourDir(dir, T0), 'report.json'), 'utf8'), before);
      assert.deepEqual((await readdir(hourDir(dir, T0))).sort(), ['report-1.json', 'report.json']);
      assert.equal((await readHour(dir, T0, 'report-1.json')).hashes, 1);
    } finally {
      await cleanup();
    }
  });

  it('an unreadable report of the hour is left alone and a sibling is written', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const c = clock(T0);
      const { mkdir } = await import('node:fs/promises');
      await mkdir(hourDir(dir, T0), { recursive: true });
      await writeFile(join(hourDir(dir, T0), 'report.json'), '{"torn":');
      const r = reports(dir, c);
      await r.start();
      await r.close();
      assert.equal(await readFile(join(hourDir(dir, T0), 'report.json'), 'utf8'), '{"torn":');
      assert.equal((await readHour(dir, T0, 'report-1.json')).complete, false);
    } finally {
      await cleanup();
    }
  });

  it('a report directory that cannot be written is reported, counts are kept, and writing resumes', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const blocked = join(dir, 'reports');
      await writeFile(blocked, 'a file where the report folder should be');
      const c = clock(T0);
      const states: Array<string | null> = [];
      const r = reports(blocked, c, { onWriteState: (e) => states.push(e ? e.message : null) });
      await r.start(); // must not throw
      assert.equal(r.state.ok, false);
      assert.match(r.state.error!, /ENOTDIR|EEXIST/);
      r.current().addHashes('cpu', 'scalar', 42);
      r.error({ time: new Date(c.now()).toISOString(), kind: 'node-unreachable', severity: 'error', message: 'connect ECONNREFUSED', action: 'retrying' });
      c.advance(1000);
      await r.flush();
      assert.equal(states.length, 1, 'said once, not at every retry');

      await rm(blocked);
      c.advance(1000);
      await r.flush();
      assert.equal(r.state.ok, true);
      assert.deepEqual(states, [states[0], null]);
      const rep = await readHour(blocked, T0);
      assert.equal(rep.hashes, 42);
      assert.deepEqual(rep.errors.byKind, { 'node-unreachable': 1 });
      const lines = (await readFile(join(hourDir(blocked, T0), 'errors.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
      assert.deepEqual(Object.keys(lines[0]!), ['time', 'kind', 'severity', 'message', 'action']);
      assert.equal(lines[0]!.kind, 'node-unreachable');
      await r.close();
    } finally {
      await cleanup();
    }
  });

  it('the best share of all time carries over from the newest earlier report', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const c = clock(T0);
      const a = reports(dir, c);
      await a.start();
      a.current().share(99);
      await a.close();
      c.set(T0 + 3 * 3_600_000);
      const b = reports(dir, c);
      await b.start();
      b.current().share(5);
      await b.close();
      const rep = await readHour(dir, c.now());
      assert.equal(rep.bestShare.hour, 5);
      assert.equal(rep.bestShare.allTime, 99);
    } finally {
      await cleanup();
    }
  });
});

describe('report summary and `solominer report`', { timeout: 60_000 }, () => {
  it('sums a span of hours; --from/--to pick hours; --json has the figures', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const c = clock(T0);
      for (let h = 0; h < 3; h++) {
        c.set(T0 + h * 3_600_000);
        const r = reports(dir, c);
        await r.start();
        r.current().addHashes('cpu', 'avx2', 3_600_000);
        r.current().share(h + 1);
        r.current().outcome({ time: new Date(c.now()).toISOString(), height: 10 + h, hash: String(h), engine: 'cpu', backend: 'avx2', outcome: 'accepted' });
        r.error({ time: new Date(c.now()).toISOString(), kind: 'node-warning', severity: 'warning', message: `w${h}`, action: 'kept mining' });
        c.advance(600_000);
        await r.close();
      }
      const all = await summarizeReports(dir);
      assert.equal(all.hours, 3);
      assert.equal(all.hashes, 3 * 3_600_000);
      assert.equal(all.coveredSeconds, 3 * 600);
      assert.equal(all.hashesPerSecond, 6000);
      assert.equal(all.blocks.accepted, 3);
      assert.equal(all.bestShare.span, 3);
      assert.equal(all.errors.total, 3);
      assert.deepEqual(all.errors.last.map((e) => e.message), ['w0', 'w1', 'w2']);

      const r = await runCli(['report', '--dir', dir, '--from', '2026-03-01T15', '--to', '2026-03-01T16:00Z', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const one = JSON.parse(r.stdout) as typeof all;
      assert.equal(one.hours, 1);
      assert.equal(one.firstHour, '2026/03/01/15');
      assert.equal(one.blocks.accepted, 1);
      assert.equal(one.bestShare.span, 2);

      const text = await runCli(['report', '--dir', dir]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /3 hour\(s\) 2026\/03\/01\/14 \.\. 2026\/03\/01\/16/);
      assert.match(text.stdout, /blocks: found 0, submitted 3, accepted 3, rejected 0/);

      const bad = await runCli(['report', '--dir', dir, '--from', 'yesterday']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--from: expected a time/);
      const missing = await runCli(['report', '--dir', join(dir, 'nope')]);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /--dir: expected a report folder/);
    } finally {
      await cleanup();
    }
  });

  it('parses report times as UTC, ISO, now and offsets', () => {
    const now = Date.UTC(2026, 0, 2, 3, 4, 5);
    assert.equal(parseReportTime('from', '2026-03-01', now), Date.UTC(2026, 2, 1));
    assert.equal(parseReportTime('from', '2026-03-01T14', now), Date.UTC(2026, 2, 1, 14));
    assert.equal(parseReportTime('from', '2026-03-01T14:30', now), Date.UTC(2026, 2, 1, 14, 30));
    assert.equal(parseReportTime('from', '2026-03-01T14:30:00+01:00', now), Date.UTC(2026, 2, 1, 13, 30));
    assert.equal(parseReportTime('from', '-24h', now), now - 86_400_000);
    assert.equal(parseReportTime('from', 'now', now), now);
    assert.throws(() => parseReportTime('to', 'soon', now), /--to: expected a time/);
  });

  it('states the expected time to a block honestly for mainnet', () => {
    // ~1.1e14 difficulty at 25 MH/s: about 600 thousand years.
    const seconds = expectedSecondsToBlock(1.1e14, 25e6)!;
    assert.ok(Math.abs(seconds - (1.1e14 * 2 ** 32) / 25e6) < 1);
    const text = describeExpectedTime('main', 1.1e14, 25e6);
    assert.match(text, /one block every about \d+(\.\d)? (thousand|million) years on average at 25\.00 MH\/s on main/);
    assert.match(text, /a 1 in [\d.e+]+ chance per hour/);
    assert.match(describeExpectedTime('main', 1.1e14, 0), /unknown/);
  });
});
