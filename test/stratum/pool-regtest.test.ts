// The Stratum pool against a real regtest node and real TCP clients: an ESP-Miner-like client
// (pipelined configure/subscribe/authorize, mask ffffffff, integer suggest_difficulty, rolled
// version bits) and a cpuminer-like one (no configure, extranonce.subscribe, string difficulty)
// get blocks accepted by the node, paying the right address; every reject code is provoked;
// a new tip makes old jobs stale; garbage and huge lines leave the server answering.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { readReport } from '../../src/telemetry/hourly-report.js';
import type { MinerStatus } from '../../src/telemetry/recorder.js';
import { hourKey, type HourReport } from '../../src/telemetry/report-schema.js';
import { summarizeReports } from '../../src/telemetry/report-summary.js';
import { runCli } from '../support/cli.js';

import { nextEvent } from '../support/events.js';
import { startPoolService } from '../support/pool.js';
import { blockAt, createWallet, newAddress, paidTo, startRegtest, type LocalNode } from '../support/regtest.js';
import { blockTarget, TestStratumClient } from '../support/stratum-client.js';

describe('Stratum pool on regtest', { timeout: 240_000 }, () => {
  let node: LocalNode;
  let operator: string;
  let own: string;
  before(async () => {
    node = await startRegtest();
    const wallet = await createWallet(node, 'pool');
    operator = await newAddress(node, wallet, 'bech32');
    own = await newAddress(node, wallet, 'bech32m');
  });
  after(async () => {
    await node?.stop();
  });

  it('an ESP-Miner-like client: pipelined start, rolled version bits, its block pays its own address', async () => {
    const p = await startPoolService(node, operator);
    const client = await TestStratumClient.connect(p.port);
    try {
      const firstJob = client.nextNotify();
      const [configure, subscribe, authorize, suggest] = await client.startLikeEspMiner(`${own}.bitaxe1`, 'x', 1);
      assert.deepEqual(configure!.result, { 'version-rolling': true, 'version-rolling.mask': '1fffe000' });
      assert.equal(subscribe!.error, null);
      assert.equal((subscribe!.result as unknown[])[2], 4, 'extranonce2_size 4');
      assert.match(client.extranonce1, /^[0-9a-f]{8}$/);
      assert.equal(authorize!.result, true);
      assert.equal(suggest!.result, true);
      const job = await firstJob;
      assert.equal(job.clean, true);
      assert.match(job.version, /^[0-9a-f]{8}$/);
      assert.equal(job.nbits, '207fffff');
      // Never above the network difficulty: on regtest every share is a block.
      assert.ok(client.difficulty! < 1e-6, `difficulty ${client.difficulty}`);
      const before = await node.rpc.call<number>('getblockcount');
      const bits = 0x0aaa6000 & client.versionMask;
      const share = client.solve(job, '00000001', blockTarget(job.nbits), bits)!;
      const newTip = client.nextNotify((n) => n.clean && n.jobId !== job.jobId);
      const reply = await client.submit(`${own}.bitaxe1`, job, '00000001', share.ntime, share.nonce, bits);
      assert.equal(reply.result, true, JSON.stringify(reply.error));
      await newTip; // the block reached the node, and the pool moved on
      assert.equal(await node.rpc.call<number>('getblockcount'), before + 1);
      const block = await blockAt(node, before + 1);
      assert.equal(block.hash, share.hash);
      assert.equal(block.version, share.version, 'the rolled version bits are in the header');
      assert.equal(block.version & 0x1fffe000, bits);
      assert.equal(paidTo(block).find((o) => o.value > 0)!.address, own);
      assert.ok(paidTo(block).some((o) => o.type === 'nulldata' && o.script.startsWith('6a24aa21a9ed')), 'witness commitment');
      assert.ok(block.tx[0]!.vin[0]!.txinwitness?.length === 1, 'the coinbase carries the witness reserved value');
      const workers = p.pool.workers();
      assert.equal(workers[0]!.name, `${own}.bitaxe1`);
      assert.equal(workers[0]!.userAgent, 'bitaxe/BM1370/v2.9.0');
      assert.equal(workers[0]!.blocksFound, 1);
      await client.close();
      const summary = await p.stop();
      assert.deepEqual(summary.stats.outcomes, { accepted: 1 }, summary.lines.join('\n'));
    } finally {
      await client.close();
      await p.stop();
    }
  });

  it('a cpuminer-like client: string difficulty, extranonce.subscribe, a worker name mines to the operator', async () => {
    const p = await startPoolService(node, operator);
    const client = await TestStratumClient.connect(p.port);
    try {
      const firstJob = client.nextNotify();
      const [, extranonce, suggested, authorized] = await client.startLikeCpuminer('rig-7', 'x', '0.5');
      assert.equal(extranonce!.result, true);
      assert.equal(suggested!.result, true);
      assert.equal(authorized!.result, true);
      const job = await firstJob;
      const share = client.solve(job, 'cafe0001', blockTarget(job.nbits))!;
      const before = await node.rpc.call<number>('getblockcount');
      const reply = await client.submit('rig-7', job, 'cafe0001', share.ntime, share.nonce);
      assert.equal(reply.result, true, JSON.stringify(reply.error));
      await client.nextNotify((n) => n.clean);
      const block = await blockAt(node, before + 1);
      assert.equal(block.hash, share.hash);
      assert.equal(paidTo(block).find((o) => o.value > 0)!.address, operator);
    } finally {
      await client.close();
      await p.stop();
    }
  });

  it('every reject code, with a readable reason', async () => {
    const p = await startPoolService(node, operator, ['--stratum-password', 'sesame', '--stratum-addresses', own]);
    const early = await TestStratumClient.connect(p.port);
    const client = await TestStratumClient.connect(p.port);
    try {
      // 25: a submit before mining.subscribe.
      const notSubscribed = await early.request('mining.submit', ['w', '1', '00000000', '00000000', '00000000']);
      assert.deepEqual(notSubscribed.error?.slice(0, 2), [25, 'not subscribed (mining.subscribe first)']);
      await early.request('mining.subscribe', []);
      // 24: before mining.authorize, a wrong password, an address this pool does not pay.
      const unauthorized = await early.request('mining.submit', ['w', '1', '00000000', '00000000', '00000000']);
      assert.equal(unauthorized.error?.[0], 24);
      assert.deepEqual((await early.request('mining.authorize', ['w', 'wrong'])).error?.slice(0, 2), [24, 'wrong password']);
      const other = await newAddress(node, 'pool', 'bech32');
      const notPaid = await early.request('mining.authorize', [`${other}.x`, 'sesame']);
      assert.deepEqual(notPaid.error?.slice(0, 2), [24, `${other} is not among the addresses this pool pays (--stratum-addresses)`]);
      const mainnet = await early.request('mining.authorize', ['bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4.x', 'sesame']);
      assert.deepEqual(mainnet.error?.slice(0, 2), [24, 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4 is not a payout address on regtest']);

      const firstJob = client.nextNotify();
      await client.startLikeEspMiner(`${own}.r`, 'sesame');
      const job = await firstJob;
      const user = `${own}.r`;
      // 21: a job that never was.
      assert.deepEqual((await client.submit(user, { ...job, jobId: 'nope' }, '00000000', 0, 0)).error?.slice(0, 2), [21, 'job "nope" not found']);
      // 20: extranonce2 of the wrong size; version bits outside the mask; ntime out of range.
      assert.deepEqual((await client.submit(user, job, '0000', Number.parseInt(job.ntime, 16), 0)).error?.slice(0, 2), [20, 'extranonce2: expected 8 hex digits']);
      assert.match((await client.submit(user, job, '00000000', Number.parseInt(job.ntime, 16), 0, 0xe0000000)).error?.[1] ?? '', /^version bits: e0000000 outside the negotiated mask 1fffe000$/);
      assert.match((await client.submit(user, job, '00000000', Number.parseInt(job.ntime, 16) + 3 * 3600, 0)).error?.[1] ?? '', /^ntime: \d+ is more than 2 h ahead/);
      // 23: a hash above the target (on regtest the share target is the block target).
      const weak = client.weak(job, '00000002', blockTarget(job.nbits));
      const low = await client.submit(user, job, '00000002', weak.ntime, weak.nonce);
      assert.equal(low.error?.[0], 23);
      assert.match(low.error?.[1] ?? '', /^low difficulty share: /);
      // A real share, then the same again: 22.
      const share = client.solve(job, '00000003', blockTarget(job.nbits))!;
      const staleNext = client.nextNotify((n) => n.clean);
      assert.equal((await client.submit(user, job, '00000003', share.ntime, share.nonce)).result, true);
      assert.deepEqual((await client.submit(user, job, '00000003', share.ntime, share.nonce)).error?.slice(0, 2), [22, 'duplicate share']);
      // That share was a block: the tip moved. 21 for the old job: stale.
      await staleNext;
      const again = client.solve(job, '00000004', blockTarget(job.nbits))!;
      assert.deepEqual((await client.submit(user, job, '00000004', again.ntime, again.nonce)).error?.slice(0, 2), [21, 'stale: the job is for a previous block']);
      const w = p.pool.workers().find((x) => x.name === user)!;
      assert.equal(w.sharesAccepted, 1);
      assert.deepEqual(w.sharesRejected, { stale: 2, other: 3, 'low-difficulty': 1, duplicate: 1 });
    } finally {
      await early.close();
      await client.close();
      await p.stop();
    }
  });

  it('a new tip from elsewhere reaches the client as clean_jobs within the ZMQ switch, and old shares are stale', async () => {
    const p = await startPoolService(node, operator);
    const client = await TestStratumClient.connect(p.port);
    try {
      const firstJob = client.nextNotify();
      await client.startLikeCpuminer(own);
      const job = await firstJob;
      const fanout = nextEvent<[{ ms: number; newTip: boolean; connections: number }]>(p.pool, 'fanout', (e) => e.newTip);
      const moved = client.nextNotify((n) => n.clean && n.prevhash !== job.prevhash);
      await node.rpc.call('generatetoaddress', 1, operator);
      const next = await moved;
      const [f] = await fanout;
      assert.equal(f.connections, 1);
      assert.ok(f.ms >= 0);
      assert.notEqual(next.jobId, job.jobId);
      const share = client.solve(job, '00000009', blockTarget(job.nbits))!;
      assert.equal((await client.submit(own, job, '00000009', share.ntime, share.nonce)).error?.[0], 21);
    } finally {
      await client.close();
      await p.stop();
    }
  });

  it('garbage, a huge line and unknown methods: error replies, then the connection is dropped; others go on', async () => {
    const p = await startPoolService(node, operator);
    const good = await TestStratumClient.connect(p.port);
    const bad = await TestStratumClient.connect(p.port);
    const huge = await TestStratumClient.connect(p.port);
    try {
      const firstJob = good.nextNotify();
      await good.startLikeCpuminer(own);
      await firstJob;
      const unknown = await bad.request('mining.frobnicate', []);
      assert.deepEqual(unknown.error?.slice(0, 2), [20, 'unknown method "mining.frobnicate"']);
      const wrongType = await bad.request('mining.authorize', [42]);
      assert.equal(wrongType.error?.[0], 20);
      const closed = nextEvent(bad, 'closed');
      for (let i = 0; i < 10 && !bad.closed; i++) bad.sendRaw('{not json\n');
      await closed;
      assert.ok(bad.replies.some((r) => r.error?.[1] === 'invalid JSON'));
      const hugeClosed = nextEvent(huge, 'closed');
      huge.sendRaw(`{"id":1,"method":"mining.subscribe","params":["${'x'.repeat(20_000)}"]}\n`);
      await hugeClosed;
      // The good connection is untouched and the server still answers.
      assert.equal(good.closed, false);
      assert.equal((await good.request('mining.ping', [])).result, 'pong');
      const fresh = await TestStratumClient.connect(p.port);
      assert.equal((await fresh.request('mining.subscribe', [])).error, null);
      await fresh.close();
    } finally {
      await good.close();
      await p.stop();
    }
  });
});


describe('what operators see of the pool', { timeout: 240_000 }, () => {
  let node: LocalNode;
  let operator: string;
  let own: string;
  before(async () => {
    node = await startRegtest();
    const wallet = await createWallet(node, 'ops');
    operator = await newAddress(node, wallet, 'bech32');
    own = await newAddress(node, wallet, 'bech32');
  });
  after(async () => {
    await node?.stop();
  });

  it('/status, `status`, the metrics and the hourly report show the worker; its best share outlives a restart', async () => {
    const p = await startPoolService(node, operator, ['--metrics-port', '0'], { service: { reportFlushIntervalMs: 100 } });
    const client = await TestStratumClient.connect(p.port);
    const user = `${own}.axe`;
    let best = 0;
    try {
      const first = client.nextNotify();
      await client.startLikeEspMiner(user);
      const job = await first;
      const share = client.solve(job, '00000abc', blockTarget(job.nbits))!;
      const moved = client.nextNotify((n) => n.clean);
      assert.equal((await client.submit(user, job, '00000abc', share.ntime, share.nonce)).result, true);
      await moved;
      const url = p.pool.url;
      assert.match(url, /^stratum\+tcp:\/\/127\.0\.0\.1:\d+$/);
      const metricsUrl = p.recorder.metricsUrl!;
      const status = (await (await fetch(`${metricsUrl}/status`)).json()) as MinerStatus;
      assert.equal(status.pool?.connections, 1);
      assert.equal(status.pool?.sharesAccepted, 1);
      const w = status.workers!.find((x) => x.name === user)!;
      assert.equal(w.address, own);
      assert.equal(w.sharesAccepted, 1);
      assert.equal(w.blocksFound, 1);
      assert.equal(w.userAgent, 'bitaxe/BM1370/v2.9.0');
      assert.ok(w.bestShare.run! > 0 && w.bestShare.allTime === w.bestShare.run);
      best = w.bestShare.allTime!;
      const text = await runCli(['status', '--url', metricsUrl]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /^stratum pool stratum\+tcp:\/\/127\.0\.0\.1:\d+: 1 connection\(s\), shares accepted 1$/m);
      assert.match(text.stdout, new RegExp(`^  ${user}: .*shares 1, best .*, blocks 1, bitaxe/BM1370/v2\\.9\\.0$`, 'm'));
      const metrics = await (await fetch(`${metricsUrl}/metrics`)).text();
      assert.match(metrics, /^solominer_stratum_shares_total\{result="accepted",reason="",protocol="v1"\} 1$/m);
      assert.match(metrics, /^solominer_stratum_connections\{protocol="v1"\} 1$/m);
      assert.match(metrics, new RegExp(`^solominer_stratum_worker_best_share_difficulty\\{worker="${user.replaceAll('.', '\\.')}"\\} `, 'm'));
    } finally {
      await client.close();
      await p.stop();
    }
    const reports = await summarizeReports(join(p.dir, 'reports'));
    assert.equal(reports.hours >= 1, true);
    const hour = (await readReport(join(p.dir, 'reports', ...hourKey(Date.now()).split('/'), 'report.json'))) as HourReport;
    assert.equal(hour.stratum?.sharesAccepted, 1);
    assert.equal(hour.stratum?.workers.find((x) => x.name === user)?.blocksFound, 1);
    // The same report folder and journal: the worker's all-time best is still known.
    const again = await startPoolService(node, operator, [], { dir: p.dir });
    const back = await TestStratumClient.connect(again.port);
    try {
      const first = back.nextNotify();
      await back.startLikeEspMiner(user);
      await first;
      const w = again.pool.workers().find((x) => x.name === user)!;
      assert.equal(w.bestShare.run, null);
      assert.equal(w.bestShare.allTime, best);
    } finally {
      await back.close();
      await again.stop();
    }
  });
});
