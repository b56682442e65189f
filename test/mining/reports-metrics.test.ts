// Hourly reports and the metrics endpoint of `mine` against a real regtest node: the hour's
// report has non-zero hashes, the mined blocks and the documented schema; a restart within the
// hour keeps the first run's counts; /metrics serves the solominer_* names while mining and
// `status --json` reads /status.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { hourFolders, readReport, reportFilesIn } from '../../src/telemetry/hourly-report.js';
import { METRIC_NAMES } from '../../src/telemetry/metrics.js';
import type { Miner } from '../../src/miner/miner.js';
import type { Recorder, MinerStatus } from '../../src/telemetry/recorder.js';
import { hourReportSchema, type HourReport } from '../../src/telemetry/report-schema.js';
import { runCli } from '../support/cli.js';
import { mineConfig, runMiner, scratchDir } from '../support/mining.js';
import { createWallet, newAddress, startRegtest, type LocalNode } from '../support/regtest.js';

async function allReports(reportDir: string): Promise<HourReport[]> {
  const out: HourReport[] = [];
  for (const [, path] of await hourFolders(reportDir)) {
    for (const name of await reportFilesIn(path)) {
      const text = await readFile(join(path, name), 'utf8');
      hourReportSchema.parse(JSON.parse(text)); // the documented schema, strictly
      const r = await readReport(join(path, name));
      assert.ok(r && !(r instanceof Error), String(r));
      out.push(r);
    }
  }
  return out;
}

describe('mine: hourly reports and metrics on regtest', { timeout: 120_000 }, () => {
  let node: LocalNode;
  let address: string;

  before(async () => {
    node = await startRegtest();
    const wallet = await createWallet(node, 'ops');
    address = await newAddress(node, wallet, 'bech32');
  });
  after(async () => {
    await node?.stop();
  });

  it('writes the hour\'s report (hashes, blocks, schema); a restart in the same hour keeps the first run\'s counts', async () => {
    const dir = await scratchDir();
    const reportDir = join(dir, 'reports');
    const first = await runMiner(await mineConfig(node, address, dir, ['--max-blocks', '2']), { reportFlushIntervalMs: 200 });
    assert.equal(first.stats.accepted, 2, first.lines.join('\n'));
    const afterFirst = await allReports(reportDir);
    assert.ok(afterFirst.length >= 1);
    const r1 = afterFirst.at(-1)!;
    assert.equal(r1.network, 'regtest');
    assert.ok(r1.hashes > 0, 'non-zero hashes');
    assert.ok(r1.engines.length >= 1 && r1.engines.every((e) => e.engine === 'cpu' && e.hashes > 0 && e.hashesPerSecond > 0));
    assert.equal(r1.blocks.accepted, 2);
    assert.equal(r1.blocks.found, 2);
    assert.ok(r1.templates.total >= 2 && (r1.templates.byReason.initial ?? 0) >= 1);
    assert.ok(r1.workSwitches.count >= 2 && r1.workSwitches.latencyMs.p50 !== null);
    assert.ok(r1.node.height !== null && r1.node.height >= 1);
    assert.ok(r1.node.networkDifficulty! > 0 && r1.node.networkDifficulty! < 1e-9, 'regtest difficulty');
    assert.ok(r1.bestShare.hour! > 0 && r1.bestShare.allTime! >= r1.bestShare.hour!);
    assert.ok(r1.expectedTimeToBlock.seconds !== null);
    const heights = r1.blocks.list.map((b) => b.height);
    const tip = (await node.rpc.call<{ blocks: number }>('getblockchaininfo')).blocks;
    assert.deepEqual(heights, [tip - 1, tip]);
    for (const b of r1.blocks.list) assert.equal(b.hash, await node.rpc.call<string>('getblockhash', b.height));

    const second = await runMiner(await mineConfig(node, address, dir, ['--max-blocks', '1']), { reportFlushIntervalMs: 200 });
    assert.equal(second.stats.accepted, 1, second.lines.join('\n'));
    const afterSecond = await allReports(reportDir);
    const total = afterSecond.reduce((a, r) => a + r.blocks.accepted, 0);
    assert.equal(total, 3, 'no count of the first run is lost');
    const sameHour = afterSecond.find((r) => r.hourStart === r1.hourStart)!;
    if (afterSecond.length === afterFirst.length) {
      // Both runs in the same hour (the usual case): one file, merged.
      assert.equal(sameHour.uptime.restarts, 1);
      assert.equal(sameHour.blocks.accepted, 3);
      assert.ok(sameHour.hashes >= r1.hashes);
    }

    const summary = await runCli(['report', '--dir', reportDir, '--json']);
    assert.equal(summary.code, 0, summary.stderr);
    const s = JSON.parse(summary.stdout) as { blocks: { accepted: number }; hashes: number };
    assert.equal(s.blocks.accepted, 3);
    assert.ok(s.hashes > 0);
  });

  it('serves the solominer_* metrics while mining, and `status --json` reads /status', async () => {
    const dir = await scratchDir();
    let metrics = '';
    let status: MinerStatus | undefined;
    let cliStatus: MinerStatus | undefined;
    let probe: Promise<void> = Promise.resolve();
    const stop = new AbortController();
    const run = await runMiner(await mineConfig(node, address, dir, ['--metrics-port', '0']), {
      signal: stop.signal,
      onStarted: ({ miner, recorder: ops }: { miner: Miner; recorder: Recorder }) => {
        // Probed at the first new tip after a block's outcome is recorded (the outcome is
        // journaled and fsynced after the node answers, so the ZMQ template can come first).
        let probed = false;
        miner.on('job', (s) => {
          if (!s.newTip || probed || (ops.status().blocks.accepted ?? 0) < 1) return;
          probed = true;
          probe = (async () => {
            const url = ops.metricsUrl!;
            metrics = await (await fetch(`${url}/metrics`)).text();
            status = (await (await fetch(`${url}/status`)).json()) as MinerStatus;
            const r = await runCli(['status', '--json', '--url', url]);
            assert.equal(r.code, 0, r.stderr);
            cliStatus = JSON.parse(r.stdout) as MinerStatus;
          })().finally(() => stop.abort());
        });
      },
    });
    await probe;
    assert.ok(run.stats.accepted >= 1, run.lines.join('\n'));
    assert.ok(run.lines.some((l) => /dashboard on http:\/\/127\.0\.0\.1:\d+\/; Prometheus http:\/\/127\.0\.0\.1:\d+\/metrics/.test(l)), 'binds 127.0.0.1 by default');
    for (const name of METRIC_NAMES) assert.match(metrics, new RegExp(`^# TYPE ${name} `, 'm'), name);
    const hashes = /^solominer_hashes_total\{engine="cpu",backend="[^"]+"\} (\d+)/m.exec(metrics);
    assert.ok(hashes && Number(hashes[1]) > 0, 'hashes counted while mining');
    assert.match(metrics, /^solominer_blocks_total\{outcome="accepted"\} [1-9]/m);
    assert.match(metrics, /^solominer_node_reachable 1$/m);
    assert.ok(status!.engines.length >= 1 && status!.node.height! >= 1);
    assert.equal(cliStatus!.network, 'regtest');
    assert.ok(cliStatus!.uptimeSeconds > 0);
    assert.ok(cliStatus!.blocks.accepted! >= 1);
    assert.ok(cliStatus!.lastTemplate !== null);
  });
});
