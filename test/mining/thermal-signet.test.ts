// --max-temp on a real run: mining on a private signet, the CPU sensor is a sysfs tree in a
// temporary folder — the only way to make a sensor hot on demand (and this machine may have
// no sensor at all). Hot: hashing pauses (/status throttled, the engine's hash count stops,
// templates still arrive); cooler but not below --resume-temp: still paused (hysteresis);
// below it: hashing resumes. Status, metrics and the hour's report show it; the pause and
// the resume are logged once each. Without a sensor, --max-temp is refused in one line.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { CpuEngine } from '../../src/engines/cpu-engine.js';
import type { ThermalGovernor } from '../../src/engines/thermal.js';
import type { Miner } from '../../src/miner/miner.js';
import type { TemplateSource } from '../../src/node/template-source.js';
import { hourFolders, readReport, reportFilesIn } from '../../src/telemetry/hourly-report.js';
import type { Recorder } from '../../src/telemetry/recorder.js';
import type { MinerStatus } from '../../src/telemetry/status-document.js';
import { runCli } from '../support/cli.js';
import { nextEvent } from '../support/events.js';
import { mineArgs, mineConfig, runMiner, scratchDir } from '../support/mining.js';
import { createWallet, newAddress, startPrivateSignet, type LocalNode } from '../support/regtest.js';

const SENSOR = 'coretemp/Package id 0';

interface Live {
  miner: Miner;
  source: TemplateSource;
  recorder: Recorder;
  thermal: ThermalGovernor | undefined;
}

describe('--max-temp while mining on a private signet', { timeout: 300_000 }, () => {
  let node: LocalNode;
  let address: string;
  let sysfs: string;
  const setCelsius = (c: number) => writeFile(join(sysfs, 'class/hwmon/hwmon0/temp1_input'), `${c * 1000}\n`);

  before(async () => {
    node = await startPrivateSignet();
    const wallet = await createWallet(node, 'heat');
    address = await newAddress(node, wallet, 'bech32');
    sysfs = await mkdtemp(join(tmpdir(), 'solominer-sysfs-'));
    await mkdir(join(sysfs, 'class/hwmon/hwmon0'), { recursive: true });
    await writeFile(join(sysfs, 'class/hwmon/hwmon0/name'), 'coretemp\n');
    await writeFile(join(sysfs, 'class/hwmon/hwmon0/temp1_label'), 'Package id 0\n');
    await setCelsius(50);
  });
  after(async () => {
    await node?.stop();
    await rm(sysfs, { recursive: true, force: true });
  });

  it('pauses above --max-temp, stays paused down to --resume-temp, resumes below it', async (t) => {
    const dir = await scratchDir();
    const config = await mineConfig(node, address, dir, ['--max-temp', '80', '--resume-temp', '70', '--metrics-port', '0', '--refresh-interval', '0.2']);
    const engine = new CpuEngine({ threads: 2 });
    const stop = new AbortController();
    let resolveLive: (live: Live) => void = () => {};
    const started = new Promise<Live>((resolve) => (resolveLive = resolve));
    const run = runMiner(config, {
      engines: [engine],
      signal: stop.signal,
      reportFlushIntervalMs: 200,
      thermal: { sources: { sysfsRoot: sysfs, nvidiaSmi: null }, pollMs: 100 },
      onStarted: (live) => resolveLive(live),
    });
    try {
      const { miner, source, recorder, thermal } = await started;
      assert.ok(thermal, 'the fake sensor was found');
      const url = recorder.metricsUrl!;
      const status = async () => (await (await fetch(`${url}/status`)).json()) as MinerStatus;
      const polled = (n: number) => new Promise<void>((resolve) => {
        let left = n;
        const on = () => {
          if (--left > 0) return;
          thermal.off('readings', on);
          resolve();
        };
        thermal.on('readings', on);
      });
      const hashed = () => recorder.run.totalHashes;

      await nextEvent(miner, 'hashes', () => true, 30_000);
      const cool = await status();
      assert.equal(cool.throttled, false);
      assert.deepEqual(cool.temperatures, [{ sensor: SENSOR, kind: 'cpu', celsius: 50 }]);
      assert.deepEqual(cool.thermal, { maxCelsius: 80, resumeCelsius: 70, pausedSince: null, pausedBy: null, pauses: 0, pausedSeconds: 0 });

      // Hot: the next poll pauses hashing.
      const heated = performance.now();
      await setCelsius(85);
      await nextEvent(thermal, 'pause', () => true, 10_000);
      const pausedAfterMs = performance.now() - heated;
      if (engine.busy) await nextEvent(engine, 'done', () => true, 10_000);
      const idleAfterMs = performance.now() - heated;
      const hot = await status();
      assert.equal(hot.throttled, true);
      assert.equal(hot.thermal?.pausedBy?.sensor, SENSOR);
      assert.equal(hot.thermal?.pauses, 1);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      assert.match(metrics, /^solominer_throttled 1$/m);
      assert.match(metrics, new RegExp(`^solominer_temperature_celsius\\{sensor="${SENSOR}"\\} 85$`, 'm'));
      assert.match(recorder.statusText(), /PAUSED: too hot \(85°C\)/);

      // Paused: no hash counted over several polls, while templates keep arriving.
      const frozen = hashed();
      await Promise.all([polled(3), nextEvent(source, 'template', () => true, 10_000)]);
      assert.equal(hashed(), frozen, 'no hash while paused');
      assert.equal(engine.busy, false);

      // Cooler, but not below --resume-temp: still paused.
      await setCelsius(75);
      await polled(3);
      await setCelsius(70);
      await polled(3);
      assert.equal((await status()).throttled, true, 'hysteresis: paused down to the resume point');
      assert.equal(hashed(), frozen);

      // Below it: hashing resumes on the current work.
      const cooled = performance.now();
      await setCelsius(65);
      const resumed = await nextEvent<[{ pausedMs?: number }]>(thermal, 'resume', () => true, 10_000);
      await nextEvent(miner, 'hashes', () => true, 10_000);
      const hashingAfterMs = performance.now() - cooled;
      assert.ok(hashed() > frozen);
      const after = await status();
      assert.equal(after.throttled, false);
      assert.equal(after.thermal?.pauses, 1);
      assert.ok(after.thermal!.pausedSeconds > 0);
      assert.match(await (await fetch(`${url}/metrics`)).text(), /^solominer_throttled 0$/m);

      const cli = await runCli(['status', '--url', url]);
      assert.equal(cli.code, 0, cli.stderr);
      assert.match(cli.stdout, new RegExp(`^temperature: ${SENSOR} 65 °C; hashing, pauses above 80 °C and resumes below 70 °C; 1 pause this run, [\\d.]+ s paused$`, 'm'));
      t.diagnostic(
        `poll 100 ms: 85 °C written → pause ${pausedAfterMs.toFixed(0)} ms → engine idle ${idleAfterMs.toFixed(0)} ms; ` +
          `65 °C written → hashing again ${hashingAfterMs.toFixed(0)} ms; paused ${((resumed[0].pausedMs ?? 0) / 1000).toFixed(2)} s`,
      );
    } finally {
      stop.abort();
    }
    const summary = await run;
    await engine.close();
    assert.equal(summary.lines.filter((l) => / too hot: /.test(l)).length, 1, summary.lines.join('\n'));
    assert.equal(summary.lines.filter((l) => / cooled: /.test(l)).length, 1, summary.lines.join('\n'));
    assert.ok(summary.lines.some((l) => l.includes(`too hot: ${SENSOR} at 85 °C is above --max-temp 80 °C; hashing paused until every sensor is below 70 °C`)), summary.lines.join('\n'));

    // The hour's report: the sensor's hottest reading, one pause and its seconds.
    const reports = [];
    for (const [, folder] of await hourFolders(join(dir, 'reports'))) {
      for (const name of await reportFilesIn(folder)) reports.push(await readReport(join(folder, name)));
    }
    const thermalHours = reports.flatMap((r) => (r && !(r instanceof Error) && r.thermal ? [r.thermal] : []));
    assert.ok(thermalHours.length >= 1, JSON.stringify(reports));
    assert.equal(Math.max(...thermalHours.flatMap((h) => h.sensors.filter((s) => s.sensor === SENSOR).map((s) => s.maxCelsius))), 85);
    assert.equal(thermalHours.reduce((a, h) => a + h.pauses, 0), 1);
    assert.ok(thermalHours.reduce((a, h) => a + h.pausedSeconds, 0) > 0);
    const summed = await runCli(['report', '--dir', join(dir, 'reports'), '--json']);
    assert.equal(summed.code, 0, summed.stderr);
    const span = JSON.parse(summed.stdout) as { thermal: { maxCelsius: number; pauses: number; pausedSeconds: number } | null };
    assert.equal(span.thermal?.maxCelsius, 85);
    assert.equal(span.thermal?.pauses, 1);
  });

  it('--max-temp without a sensor: one line, exit 2', async () => {
    const empty = await scratchDir('solominer-nosensor-');
    const dir = await scratchDir();
    const config = await mineConfig(node, address, dir, ['--max-temp', '80']);
    await assert.rejects(
      runMiner(config, { thermal: { sources: { sysfsRoot: empty, nvidiaSmi: null } } }),
      (err: Error & { exitCode?: number }) => {
        assert.equal(err.exitCode, 2);
        assert.match(err.message, /^--max-temp: no temperature sensor for the cpu engine here \(looked for coretemp, k10temp, zenpower, cpu_thermal in .*\/class\/hwmon; a CPU zone in .*\/class\/thermal\); solominer check lists what it finds$/);
        return true;
      },
    );
    // The same through the command line, on this machine's own /sys, where there is no sensor to
    // be had for the test to count on: only where this machine has none is the refusal checked.
    const own = await runCli(['check', ...mineArgs(node, address, dir), '--max-temp', '80']);
    const noSensor = /^fail temperature: no sensor for the cpu engine/m.test(own.stdout);
    if (noSensor) {
      const r = await runCli(['mine', ...mineArgs(node, address, dir), '--max-temp', '80']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^solominer mine: --max-temp: no temperature sensor for the cpu engine here/m);
      assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('solominer mine:')).length, 1);
    } else {
      assert.match(own.stdout, /^(ok|warn) +temperature: .+ °C; --max-temp pauses hashing above 80 °C and resumes below 75 °C/m);
    }
  });
});
