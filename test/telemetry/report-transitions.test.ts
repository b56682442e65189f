// The hour's block transitions in report.json: optional fields of version 1 (blocks.orphaned,
// restored, matured, transitions). A file written before them still reads, a restart within the
// hour merges into it, and `report` sums files with and without them.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { HourlyReports } from '../../src/telemetry/hourly-report.js';
import { summarizeReports } from '../../src/telemetry/report-summary.js';
import { hourDir, hourReportSchema } from '../../src/telemetry/report-schema.js';
import { tempDir } from '../support/files.js';

const T0 = Date.UTC(2026, 4, 2, 9, 5, 0);

function hourly(dir: string, now: () => number): HourlyReports {
  const runStartedAt = now();
  const context = () => ({ network: 'regtest', runStartedAt, nodeHeight: 7, tip: null, networkDifficulty: null, nodeReachable: true });
  return new HourlyReports({ dir, runStartedAt, context, now, flushIntervalMs: 3_600_000 });
}

describe('block transitions in the hourly report', { timeout: 30_000 }, () => {
  it('a file without the transition fields reads; a restart merges into it; report sums both kinds', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      let t = T0;
      const now = () => t;
      const first = hourly(dir, now);
      await first.start();
      first.current().outcome({ time: new Date(t).toISOString(), height: 5, hash: 'aa'.repeat(32), engine: 'cpu', backend: 'scalar', outcome: 'accepted' });
      t += 60_000;
      await first.close();
      // As the version before the block tracker wrote it: none of the optional fields.
      const path = join(hourDir(dir, T0), 'report.json');
      const old = JSON.parse(await readFile(path, 'utf8')) as { blocks: Record<string, unknown> };
      for (const k of ['orphaned', 'restored', 'matured', 'transitions']) delete old.blocks[k];
      await writeFile(path, JSON.stringify(old));
      assert.equal(hourReportSchema.safeParse(old).success, true, 'version 1 without them is valid');

      t += 60_000;
      const second = hourly(dir, now);
      await second.start();
      const acc = second.current();
      acc.transition({ time: new Date(t).toISOString(), height: 5, hash: 'aa'.repeat(32), from: 'confirmed', to: 'orphaned', confirmations: -1, reason: 'not in the active chain' });
      acc.chainEvent('orphaned');
      acc.transition({ time: new Date(t).toISOString(), height: 5, hash: 'aa'.repeat(32), from: 'orphaned', to: 'confirmed', confirmations: 1 });
      acc.chainEvent('restored');
      t += 60_000;
      await second.close();

      const merged = hourReportSchema.parse(JSON.parse(await readFile(path, 'utf8')));
      assert.equal(merged.version, 1);
      assert.equal(merged.uptime.restarts, 1);
      assert.deepEqual([merged.blocks.accepted, merged.blocks.orphaned, merged.blocks.restored, merged.blocks.matured], [1, 1, 1, 0]);
      assert.deepEqual(merged.blocks.transitions!.map((x) => `${x.from}→${x.to}`), ['confirmed→orphaned', 'orphaned→confirmed']);

      // The next hour, as the earlier version wrote it, summed with this one.
      const next = hourDir(dir, T0 + 3_600_000);
      await mkdir(next, { recursive: true });
      await writeFile(join(next, 'report.json'), JSON.stringify(old));
      const summary = await summarizeReports(dir);
      assert.deepEqual(summary.unreadable, []);
      assert.deepEqual([summary.blocks.accepted, summary.blocks.orphaned, summary.blocks.restored, summary.blocks.matured], [2, 1, 1, 0]);
    } finally {
      await cleanup();
    }
  });
});
