// The metrics endpoint (prom-client, solominer_* names with engine/backend labels), /status,
// `solominer status`, and the live status line, driven by Recorder' record methods.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { Recorder, type MinerStatus } from '../../src/telemetry/recorder.js';
import { METRIC_NAMES } from '../../src/telemetry/metrics.js';
import { spawn } from 'node:child_process';

import { statusUrl, watch } from '../../src/cli/status-command.js';
import { BIN, runCli } from '../support/cli.js';
import { tempDir } from '../support/files.js';

const quietLog = () => undefined;

async function withOps<T>(fn: (ops: Recorder, dir: string) => Promise<T>, extra: { statusStream?: NodeJS.WriteStream; logFormat?: string } = {}): Promise<T> {
  const { dir, cleanup } = await tempDir();
  const ops = await Recorder.start({
    config: { network: 'regtest', reportDir: join(dir, 'reports'), metricsPort: 0, metricsHost: '127.0.0.1', logFormat: extra.logFormat ?? 'text' },
    log: quietLog,
    ...(extra.statusStream && { statusStream: extra.statusStream }),
  });
  try {
    return await fn(ops, dir);
  } finally {
    await ops.close();
    await cleanup();
  }
}

function feed(ops: Recorder): void {
  ops.template('initial');
  ops.template('zmq');
  ops.workSwitch({ job: { height: 12, bits: 0x207fffff, previousBlockHash: 'ab'.repeat(32), txCount: 3, coinbaseValue: 5_000_012_345 }, reason: 'zmq', newTip: true, latencyMs: 3.2, overheadMs: 1.1 });
  ops.hashes('cpu', 'avx512', 5_000_000);
  ops.share(2.5, 'cpu', '00'.repeat(32));
  const block = { height: 12, hash: 'cd'.repeat(32), engine: 'cpu', backend: 'avx512' };
  ops.blockFound(block);
  ops.blockOutcome(block, 'accepted');
  ops.blockOutcome({ ...block, height: 13 }, 'rejected', 'bad-cb-amount');
  ops.nodeDown(new Error('connect ECONNREFUSED 127.0.0.1:18443'));
}

describe('metrics endpoint and status', { timeout: 60_000 }, () => {
  it('serves every solominer_* metric on 127.0.0.1 with engine/backend labels', async () => {
    await withOps(async (ops) => {
      feed(ops);
      assert.match(ops.metricsUrl!, /^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${ops.metricsUrl}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type')!, /text\/plain/);
      const text = await res.text();
      for (const name of METRIC_NAMES) assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
      assert.match(text, /^solominer_hashes_total\{engine="cpu",backend="avx512"\} 5000000$/m);
      assert.match(text, /^solominer_templates_total\{reason="zmq"\} 1$/m);
      assert.match(text, /^solominer_blocks_total\{outcome="accepted"\} 1$/m);
      assert.match(text, /^solominer_blocks_total\{outcome="rejected"\} 1$/m);
      assert.match(text, /^solominer_errors_total\{kind="block-rejected"\} 1$/m);
      assert.match(text, /^solominer_errors_total\{kind="node-unreachable"\} 1$/m);
      assert.match(text, /^solominer_node_reachable 0$/m);
      assert.match(text, /^solominer_node_height 11$/m);
      assert.match(text, /^solominer_best_share_difficulty\{window="hour"\} 2.5$/m);
      assert.match(text, /^solominer_work_switch_latency_seconds_count\{new_tip="true"\} 1$/m);
      assert.match(text, /^solominer_hash_rate\{engine="cpu",backend="avx512"\} \d/m);
      assert.equal((await fetch(`${ops.metricsUrl}/nope`)).status, 404);
    });
  });

  it('/status is JSON, and `solominer status --json --url` reads it', async () => {
    await withOps(async (ops) => {
      feed(ops);
      ops.nodeUp();
      const direct = (await (await fetch(`${ops.metricsUrl}/status`)).json()) as MinerStatus;
      assert.equal(direct.version, 1);
      assert.equal(direct.node.height, 11);
      assert.equal(direct.node.reachable, true);
      assert.equal(direct.engines[0]!.hashes, 5_000_000);
      assert.equal(direct.blocks.accepted, 1);
      assert.equal(direct.lastError!.kind, 'node-unreachable');
      assert.equal(direct.reports.ok, true);
      assert.ok(direct.lastTemplate!.ageSeconds >= 0);

      const r = await runCli(['status', '--json', '--url', ops.metricsUrl!]);
      assert.equal(r.code, 0, r.stderr);
      const viaCli = JSON.parse(r.stdout) as MinerStatus;
      assert.equal(viaCli.bestShare.run, 2.5);
      assert.equal(viaCli.node.tip, 'ab'.repeat(32));

      const port = new URL(ops.metricsUrl!).port;
      const text = await runCli(['status', '--metrics-port', port]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /regtest miner up/);
      assert.match(text.stdout, /cpu\/avx512/);
      assert.match(text.stdout, /blocks: found 1, accepted 1, rejected 1/);
    });
  });

  it('`status --watch` on a terminal redraws in place (home, lines cleared to their end, rest cleared) until SIGINT', async () => {
    await withOps(async (ops) => {
      feed(ops);
      const writes: string[] = [];
      let frames = 0;
      let onFrame: () => void = () => {};
      const tty = {
        isTTY: true,
        columns: 60,
        write: (s: string) => {
          writes.push(s);
          if (s.startsWith('\x1b[H') && s.endsWith('\x1b[J')) {
            frames++;
            onFrame();
          }
          return true;
        },
      } as unknown as NodeJS.WriteStream;
      const done = watch(`${ops.metricsUrl}/status`, undefined, 0.1, false, tty);
      await new Promise<void>((resolve) => {
        onFrame = () => frames >= 2 && resolve();
      });
      process.emit('SIGINT');
      assert.equal(await done, 0);
      assert.equal(writes[0], '\x1b[?25l\x1b[H\x1b[2J', 'hides the cursor and clears the screen once');
      assert.equal(writes.at(-1), '\x1b[?25h', 'shows the cursor again');
      const frame = writes.find((w) => w.startsWith('\x1b[H') && w.includes('regtest miner up'))!;
      const lines = frame.slice(3, -('\n\x1b[J'.length)).split('\n');
      assert.match(lines[0]!, /^solominer status http:\/\/127\.0\.0\.1:\d+\/status, every 0\.1 …\x1b\[K$/, "cut to the terminal's width");
      for (const line of lines) {
        assert.ok(line.endsWith('\x1b[K'), JSON.stringify(line));
        assert.ok(line.length - 3 <= 59, `fits the terminal: ${JSON.stringify(line)}`);
      }
      assert.equal(process.listenerCount('SIGINT'), 0, 'its signal handler is gone');
    });
  });

  it('`status --watch <s>` without a terminal appends a snapshot each time and exits 0 on Ctrl-C', async () => {
    await withOps(async (ops) => {
      feed(ops);
      // A process group of its own: Ctrl-C reaches the whole group (bin/solominer.js may run the CLI as its child).
      const child = spawn(process.execPath, [BIN, 'status', '--url', ops.metricsUrl!, '--watch', '0.2'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let stdout = '';
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          if ((stdout.match(/regtest miner up/g) ?? []).length >= 3) resolve();
        });
      });
      process.kill(-child.pid!, 'SIGINT');
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 0);
      assert.match(stdout, /^solominer status http:\/\/127\.0\.0\.1:\d+\/status, every 0\.2 s, Ctrl-C to stop \(\d{4}-\d\d-\d\dT[\d:]+Z\)\nregtest miner up/);
      assert.match(stdout, /^job: height 12, 2 transactions, fees 0\.00012345 BTC, tip seen [\d.]+ (ms|s) ago$/m);
      assert.doesNotMatch(stdout, /\x1b/, 'no terminal codes into a pipe');
    });
  });

  it('`status` with no miner listening fails with one line and exit 1; bad flags exit 2', async () => {
    const r = await runCli(['status', '--url', 'http://127.0.0.1:1/status']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^solominer status: no miner answered at http:\/\/127\.0\.0\.1:1\/status/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.equal((await runCli(['status'], { env: { ...process.env, SOLOMINER_METRICS_PORT: '' } })).code, 2);
    assert.throws(() => statusUrl({ url: 'ftp://x' }), /--url: expected an http:\/\/ URL/);
    assert.equal(statusUrl({ 'metrics-port': '9464' }, {}), 'http://127.0.0.1:9464/status');
    assert.equal(statusUrl({ url: 'http://10.0.0.2:9464' }, {}), 'http://10.0.0.2:9464/status');
  });

  it('an unwritable report directory shows in /status and the metrics, and the miner goes on', async () => {
    const { dir, cleanup } = await tempDir();
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'reports'), 'not a folder');
    const ops = await Recorder.start({
      config: { network: 'regtest', reportDir: join(dir, 'reports'), metricsPort: 0, metricsHost: '127.0.0.1', logFormat: 'text' },
      log: quietLog,
    });
    try {
      const s = ops.status();
      assert.equal(s.reports.ok, false);
      assert.equal(s.lastError!.kind, 'report-write');
      const text = await (await fetch(`${ops.metricsUrl}/metrics`)).text();
      assert.match(text, /^solominer_report_dir_writable 0$/m);
      assert.match(ops.statusText(), /REPORTS FAILING/);
    } finally {
      await ops.close();
      await cleanup();
    }
  });

  it('the live status line is drawn only on a terminal with text logs, one line rewritten with \\r', async (t) => {
    // The line is redrawn by a once-a-second ticker: the clock is mocked and moved on by hand.
    t.mock.timers.enable({ apis: ['setInterval', 'Date'], now: Date.now() });
    const written: string[] = [];
    const tty = { isTTY: true, columns: 200, write: (s: string) => (written.push(s), true) } as unknown as NodeJS.WriteStream;
    await withOps(async (ops) => {
      feed(ops);
      t.mock.timers.tick(1000);
      ops.log('info', 'a log line');
      assert.ok(written.length >= 1, 'drawn');
      assert.ok(written.every((w) => w.startsWith('\r\x1b[K') && !w.includes('\n')));
      assert.match(written[0]!, /cpu\/avx512 .*H\/s \| NODE DOWN \| best 2\.5 \| blocks 1 \| block every ~/);
      assert.equal(written.at(-1), '\r\x1b[K', 'a log line clears it first');
    }, { statusStream: tty });
    const json: string[] = [];
    const tty2 = { isTTY: true, columns: 200, write: (s: string) => (json.push(s), true) } as unknown as NodeJS.WriteStream;
    await withOps(async () => {
      t.mock.timers.tick(2000);
    }, { statusStream: tty2, logFormat: 'json' });
    assert.deepEqual(json, []);
  });
});
