// The pool under load and abuse, on a real regtest node over real TCP: 1,000 connections at
// once all get the job and a new tip; 1,000 block shares for one job race and exactly one block
// reaches the node (no sibling, no stale block at the node); connection caps and the idle
// timeout close what they should, with one log line, and the server keeps answering.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { authorize } from '../../src/stratum/authorize.js';
import { PoolCore } from '../../src/stratum/pool-core.js';
import { V1Server } from '../../src/stratum/v1/server.js';
import { nextEvent, within } from '../support/events.js';
import { scratchDir } from '../support/mining.js';
import { createWallet, newAddress, startRegtest, type LocalNode } from '../support/regtest.js';
import { blockTarget, TestStratumClient } from '../support/stratum-client.js';
import { startPoolService } from '../support/pool.js';

describe('Stratum pool under load', { timeout: 300_000 }, () => {
  let node: LocalNode;
  let operator: string;
  before(async () => {
    node = await startRegtest();
    operator = await newAddress(node, await createWallet(node, 'load'), 'bech32');
  });
  after(async () => {
    await node?.stop();
  });

  it('1,000 connections: every one gets the job, then a new tip; 1,000 racing blocks make exactly one', async () => {
    // Every connection comes from 127.0.0.1: room for all of them and one more.
    const p = await startPoolService(node, operator, ['--stratum-max-per-address', '2000']);
    const clients: TestStratumClient[] = [];
    try {
      for (let i = 0; i < 1000; i++) clients.push(await TestStratumClient.connect(p.port));
      const firstJobs = clients.map((c) => c.nextNotify(undefined, 60_000));
      await Promise.all(clients.map((c, i) => c.startLikeCpuminer(`rig${i}`)));
      const jobs = await within('1,000 first jobs', Promise.all(firstJobs), 60_000);
      assert.equal(new Set(clients.map((c) => c.extranonce1)).size, 1000, 'a distinct extranonce1 each');
      assert.equal(p.pool.connections, 1000);

      const tipsBefore = await node.rpc.call<Array<{ status: string }>>('getchaintips');
      const height = await node.rpc.call<number>('getblockcount');
      // Every client solves the same job and submits at once.
      const shares = clients.map((c, i) => c.solve(jobs[i]!, '00000001', blockTarget(jobs[i]!.nbits))!);
      const moved = clients.map((c) => c.nextNotify((n) => n.clean && n.prevhash !== jobs[0]!.prevhash, 60_000));
      const replies = await Promise.all(clients.map((c, i) => c.submit(`rig${i}`, jobs[i]!, '00000001', shares[i]!.ntime, shares[i]!.nonce)));
      await within('the new tip at every connection', Promise.all(moved), 60_000);
      assert.equal(await node.rpc.call<number>('getblockcount'), height + 1, 'exactly one block');
      const tips = await node.rpc.call<Array<{ status: string }>>('getchaintips');
      assert.equal(tips.length, tipsBefore.length, 'no sibling or stale block at the node');
      const accepted = replies.filter((r) => r.result === true).length;
      const stale = replies.filter((r) => r.error?.[0] === 21).length;
      assert.ok(accepted >= 1, 'the winning share was accepted');
      assert.equal(accepted + stale, 1000, JSON.stringify(replies.find((r) => r.result !== true && r.error?.[0] !== 21)));
      // The server still answers a new connection.
      const fresh = await TestStratumClient.connect(p.port);
      assert.equal((await fresh.request('mining.subscribe', [])).error, null);
      await fresh.close();
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      const summary = await p.stop();
      assert.deepEqual(summary.stats.outcomes, { accepted: 1 }, summary.lines.join('\n'));
    }
  });

  it('connection caps and the idle timeout: refused or closed, said once, the server answering', async () => {
    const warnings: string[] = [];
    const dir = await scratchDir();
    const pool = await PoolCore.open(
      {
        network: 'regtest',
        operatorAddress: operator,
        startDifficulty: 1,
        minDifficulty: 0.00001,
        shareSeconds: 10,
        maxConnections: 5,
        maxConnectionsPerAddress: 3,
        idleTimeoutMs: 1500,
        bestSharesPath: `${dir}/best.jsonl`,
      },
      () => false,
      (m) => warnings.push(m),
    );
    await V1Server.listen(pool, { host: '127.0.0.1', port: 0 });
    const port = Number(new URL(pool.url.replace('stratum+tcp', 'http')).port);
    try {
      assert.ok(authorize(operator, 'x', { network: 'regtest', operatorAddress: operator }).ok);
      const three = await Promise.all([0, 1, 2].map(() => TestStratumClient.connect(port)));
      const fourth = await TestStratumClient.connect(port);
      await within('the fourth connection from one address to be closed', nextEvent(fourth, 'closed'));
      assert.equal(warnings.filter((w) => /connection limit reached: 3 from 127\.0\.0\.1/.test(w)).length, 1, warnings.join('\n'));
      // Idle: none of the three subscribed; they are closed after the timeout.
      await within('idle connections to be closed', Promise.all(three.map((c) => (c.closed ? Promise.resolve([]) : nextEvent(c, 'closed')))), 10_000);
      if (pool.connections > 0) await within('the server to count them closed', nextEvent(pool, 'disconnect', (e: { total: number }) => e.total === 0));
      assert.equal(pool.connections, 0);
      const again = await TestStratumClient.connect(port);
      assert.equal((await again.request('mining.subscribe', [])).error, null);
      await again.close();
    } finally {
      await pool.close();
    }
  });
});
