// `mine --pool stratum2+tcp://host:port/<key>`: solominer's engines behind a solominer Stratum V2
// pool on a real regtest node. The worker fails over past a pool that is down and past one whose
// certificate is not signed by the key in its URL (it never sends that pool anything), mines
// blocks the node accepts (paid to the worker's address, every block re-checked by the
// orchestrator before it went out), and comes back when the pool restarts on the same key.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { loadMineConfig } from '../../src/config/load-config.js';
import { freePorts } from '../../src/devnode/local-node.js';
import { CpuEngine } from '../../src/engines/cpu-engine.js';
import { runPoolClientService } from '../../src/miner/client-service.js';
import type { UpstreamClient } from '../../src/stratum/upstream.js';
import type { Recorder } from '../../src/telemetry/recorder.js';
import { nextEvent, within } from '../support/events.js';
import { scratchDir } from '../support/mining.js';
import { startPoolService } from '../support/pool.js';
import { blockAt, createWallet, newAddress, paidTo, startRegtest, type LocalNode } from '../support/regtest.js';

describe('mine --pool stratum2+tcp:// on regtest', { timeout: 240_000 }, () => {
  let node: LocalNode;
  let operator: string;
  let own: string;
  before(async () => {
    node = await startRegtest();
    const wallet = await createWallet(node, 'sv2client');
    operator = await newAddress(node, wallet, 'bech32');
    own = await newAddress(node, wallet, 'bech32');
  });
  after(async () => {
    await node?.stop();
  });

  it('fails over past a down pool and a wrong key, mines blocks paid to the worker, and rejoins a restarted pool', async () => {
    const [port, downPort, impostorPort] = await freePorts(3);
    const dir = await scratchDir();
    const poolDir = await scratchDir();
    let pool = await startPoolService(node, operator, [], { dir: poolDir, ports: ['--sv2-port', String(port!)] });
    const key = pool.sv2!.authorityKey;
    // An impostor: a solominer SV2 pool with another authority key, reached with this pool's key.
    const impostor = await startPoolService(node, operator, [], { ports: ['--sv2-port', String(impostorPort!)] });
    assert.notEqual(impostor.sv2!.authorityKey, key);
    const urls = [`stratum2+tcp://127.0.0.1:${downPort}/${key}`, `stratum2+tcp://127.0.0.1:${impostorPort}/${key}`, `stratum2+tcp://127.0.0.1:${port}/${key}`];
    const config = await loadMineConfig({ argv: ['--report-dir', dir, ...urls.flatMap((u) => ['--pool', u]), '--user', `${own}.cpu`, '--threads', '1'], env: {}, cwd: dir });
    const stop = new AbortController();
    let client: UpstreamClient | undefined;
    let rec: Recorder | undefined;
    const started = new Promise<void>((resolve) => {
      void runPoolClientService({
        config,
        log: () => undefined,
        signal: stop.signal,
        engines: [new CpuEngine({ threads: 1 })],
        reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
        onStarted: (live) => {
          client = live.client;
          rec = live.recorder;
          resolve();
        },
      }).then((s) => (summary = s));
    });
    let summary: Awaited<ReturnType<typeof runPoolClientService>> | undefined;
    const warnings: string[] = [];
    await started;
    client!.on('warning', (w) => warnings.push(w));
    try {
      const height = await node.rpc.call<number>('getblockcount');
      const [connected] = await within('the worker to log in', nextEvent<[{ url: string }]>(client!, 'connected', () => true, 60_000), 60_000);
      assert.equal(connected.url, urls[2], 'the down pool and the impostor were passed over');
      assert.ok(warnings.some((w) => w.includes(`${impostorPort}`) && /not the authority key's/.test(w)), warnings.join('\n'));
      assert.equal(impostor.pool.workers().length, 0, 'the impostor never got a channel');
      // Blocks: on regtest each share is one; the pool checks and submits them.
      await within('three blocks through the pool', nextEvent(client!, 'share', () => (rec!.status().upstream?.sharesAccepted ?? 0) >= 3, 60_000), 60_000);
      // The pool answers a share before its block reaches the node: the node's tip, at each new job.
      let tip = await node.rpc.call<number>('getblockcount');
      while (tip < height + 3) {
        await within('the blocks at the node', nextEvent(client!, 'job', () => true, 30_000), 30_000);
        tip = await node.rpc.call<number>('getblockcount');
      }
      for (let h = height + 1; h <= tip; h++) assert.equal(paidTo(await blockAt(node, h)).find((o) => o.value > 0)!.address, own, `block ${h}`);
      assert.equal(rec!.status().upstream?.url, urls[2]);

      // The pool stops and comes back on the same key: the worker rejoins.
      const lost = nextEvent(client!, 'disconnected', () => true, 30_000);
      await pool.stop();
      await lost;
      pool = await startPoolService(node, operator, [], { dir: poolDir, ports: ['--sv2-port', String(port!)] });
      assert.equal(pool.sv2!.authorityKey, key, 'the same authority key after a restart');
      await within('the worker to log in again', nextEvent(client!, 'connected', () => true, 60_000), 60_000);
      const again = rec!.status().upstream?.sharesAccepted ?? 0;
      await within('a share after the restart', nextEvent(client!, 'share', () => (rec!.status().upstream?.sharesAccepted ?? 0) > again, 60_000), 60_000);
      assert.ok((rec!.status().upstream?.reconnects ?? 0) >= 1);
    } finally {
      stop.abort();
      await within('the worker to stop', (async () => {
        while (summary === undefined) await new Promise((r) => setTimeout(r, 50));
      })(), 30_000);
      await pool.stop();
      await impostor.stop();
    }
    assert.ok(summary!.sharesAccepted >= 4, `${summary!.sharesAccepted} shares accepted`);
    assert.equal(summary!.sharesRejected, 0, 'no share refused');
  });

  it('a URL whose key is not base58check, or a mix of V1 and V2 URLs: one line naming the flag', async () => {
    const dir = await scratchDir();
    const load = (pools: string[]) => loadMineConfig({ argv: ['--report-dir', dir, ...pools.flatMap((u) => ['--pool', u]), '--user', 'x'], env: {}, cwd: dir });
    await assert.rejects(load(['stratum2+tcp://127.0.0.1:3336/9bXiEd8boQVhq7WddEcERUL5tyyJVFYdU8th3HfbNXK3Yw6GRXX']), /--pool: stratum2\+tcp:\/\/127\.0\.0\.1:3336\/9bX.*checksum/);
    await assert.rejects(load(['stratum+tcp://127.0.0.1:3333', 'stratum2+tcp://127.0.0.1:3336/9bXiEd8boQVhq7WddEcERUL5tyyJVFYdU8th3HfbNXK3Yw6GRXh']), /--pool: expected URLs of one protocol/);
    const ok = await load(['stratum2+tcp://127.0.0.1:3336/9bXiEd8boQVhq7WddEcERUL5tyyJVFYdU8th3HfbNXK3Yw6GRXh']);
    assert.deepEqual(ok.pool, ['stratum2+tcp://127.0.0.1:3336/9bXiEd8boQVhq7WddEcERUL5tyyJVFYdU8th3HfbNXK3Yw6GRXh']);
  });
});
