// `solominer status --health`, the container's HEALTHCHECK: one line and exit 0 when the miner's
// own /status says it has work and somewhere to keep it, exit 1 with the reason otherwise (never
// Docker's reserved 2, not even for a refused token). The documents are served by a real status
// server; the miner states they describe (node gone, no job, a failing reports folder) are what
// a running miner reports in those cases.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { healthOf } from '../../src/cli/health.js';
import type { MinerStatus } from '../../src/telemetry/status-document.js';
import { StatusServer } from '../../src/telemetry/status-server.js';
import { runCli } from '../support/cli.js';

const TOKEN = 'health-4c1d9e0b7a52f3e8';
const CLEAN_ENV: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SOLOMINER_')));

function doc(over: Partial<Record<keyof MinerStatus, unknown>> = {}): MinerStatus {
  return {
    version: 1,
    network: 'regtest',
    uptimeSeconds: 12.4,
    node: { reachable: true, height: 7, tip: '00'.repeat(32), networkDifficulty: 1 },
    job: { height: 8 },
    reports: { dir: '/data/reports', ok: true, lastWriteAt: null, error: null, errorSince: null },
    ...over,
  } as unknown as MinerStatus;
}

describe('status --health', { timeout: 60_000 }, () => {
  it('judges the document: node, job, pool connection, reports folder', () => {
    assert.deepEqual(healthOf(doc()), { healthy: true, line: 'healthy: regtest miner up 12 s, working at height 8' });
    assert.equal(healthOf(doc({ node: { reachable: false, height: 7, tip: null, networkDifficulty: null } })).line, 'unhealthy: node unreachable');
    assert.equal(healthOf(doc({ job: null })).line, 'unhealthy: no job yet');
    const failing = doc({ reports: { dir: '/data/reports', ok: false, lastWriteAt: null, error: 'EACCES: permission denied', errorSince: '2026-01-01T00:00:00Z' } });
    assert.equal(healthOf(failing).line, 'unhealthy: reports folder /data/reports failing since 2026-01-01T00:00:00Z: EACCES: permission denied');
    // Mining through a pool: the upstream connection counts, not a node.
    const upstream = { url: 'stratum+tcp://pool:3333', connected: false };
    assert.equal(healthOf(doc({ upstream, node: { reachable: false }, job: null })).line, 'unhealthy: no pool connection (last stratum+tcp://pool:3333); no job yet');
    assert.equal(healthOf(doc({ upstream: { ...upstream, connected: true }, node: { reachable: false } })).healthy, true);
  });

  it('asks a running status port: 0 healthy, 1 unhealthy, 1 for no answer or a refused token', async () => {
    let current = doc();
    const s = await StatusServer.listen({
      host: '0.0.0.0',
      port: 0,
      token: TOKEN,
      metrics: async () => ({ contentType: 'text/plain', body: '' }),
      status: () => current,
    });
    const port = String(new URL(s.url).port);
    try {
      const env = { ...CLEAN_ENV, SOLOMINER_METRICS_PORT: port, SOLOMINER_METRICS_HOST: '0.0.0.0', SOLOMINER_STATUS_TOKEN: TOKEN };
      let r = await runCli(['status', '--health'], { env, timeoutMs: 20_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'healthy: regtest miner up 12 s, working at height 8\n');

      current = doc({ node: { reachable: false, height: 7, tip: null, networkDifficulty: null } });
      r = await runCli(['status', '--health'], { env, timeoutMs: 20_000 });
      assert.equal(r.code, 1);
      assert.equal(r.stdout, 'unhealthy: node unreachable\n');

      r = await runCli(['status', '--health'], { env: { ...env, SOLOMINER_STATUS_TOKEN: `${TOKEN}x` }, timeoutMs: 20_000 });
      assert.equal(r.code, 1);
      assert.match(r.stdout, /^unhealthy: http:\/\/0\.0\.0\.0:\d+\/status: 401 unauthorized: the status token given is not this miner's\n$/);
      assert.ok(!r.stdout.includes(TOKEN), 'the token is never printed');

      r = await runCli(['status', '--health', '--json'], { env, timeoutMs: 20_000 });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /--health: give it alone, without --watch or --json/);
    } finally {
      await s.close();
    }
    const r = await runCli(['status', '--health', '--metrics-port', port], { env: CLEAN_ENV, timeoutMs: 20_000 });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^unhealthy: no miner answered at http:\/\/127\.0\.0\.1:\d+\/status: ECONNREFUSED\n$/);
  });
});
