// The Stratum V2 pool (--sv2-port) against a real regtest node over real TCP, with a miner that
// builds every header itself (test/support/sv2-client.ts): an ESP-Miner-like extended channel and
// a standard (header-only) channel each get a block accepted by the node, paying the right
// address, with rolled version bits; a new tip arrives as a future job and SetNewPrevHash; every
// error code is provoked with the spec's messages; V1 and V2 beside each other share one pool
// (one worker book, one connection budget, the same per-worker figures in /status and metrics).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { readReport } from '../../src/telemetry/hourly-report.js';
import { hourKey, type HourReport } from '../../src/telemetry/report-schema.js';
import { MessageType, type OpenExtendedMiningChannelSuccess, type OpenMiningChannelError, type OpenStandardMiningChannelSuccess, type SetupConnectionError, type SubmitSharesError } from '../../src/stratum/v2/messages.js';
import { runCli } from '../support/cli.js';
import { startSv2PoolService } from '../support/pool.js';
import { blockAt, createWallet, newAddress, paidTo, startRegtest, type LocalNode } from '../support/regtest.js';
import { blockTarget, TestStratumClient } from '../support/stratum-client.js';
import { le256, TestSv2Client } from '../support/sv2-client.js';

const MASK = 0x1fffe000;
const show = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x));

describe('Stratum V2 pool on regtest', { timeout: 240_000 }, () => {
  let node: LocalNode;
  let operator: string;
  let own: string;
  before(async () => {
    node = await startRegtest();
    const wallet = await createWallet(node, 'sv2');
    operator = await newAddress(node, wallet, 'bech32');
    own = await newAddress(node, wallet, 'bech32m');
  });
  after(async () => {
    await node?.stop();
  });

  it('an ESP-Miner-like extended channel: its block, with rolled version bits, pays its own address', async () => {
    const p = await startSv2PoolService(node, operator);
    assert.equal(p.port, 0, 'no Stratum V1 port unless asked');
    const c = await TestSv2Client.connect(p.sv2!.port, { authorityKey: p.sv2!.authorityPublicKey });
    try {
      // ESP-Miner: flags 0 for extended, vendor bitaxe; Success must be the very next frame.
      const setup = await c.setup(0, { vendor: 'bitaxe', hardwareVersion: 'BM1370', firmware: 'v2.14.0' });
      assert.equal(setup.type, MessageType.SetupConnectionSuccess);
      assert.equal(c.received.length, 0, 'nothing but Success after SetupConnection');
      const firstLive = c.nextLive();
      const open = (await c.open('extended', `${own}.bitaxe`, { nominalHashRate: 1e12, minExtranonceSize: 2 })) as OpenExtendedMiningChannelSuccess;
      assert.equal(open.type, MessageType.OpenExtendedMiningChannelSuccess);
      assert.equal(open.extranoncePrefix.length, 4);
      assert.equal(open.extranonceSize, 4, 'at least the 2 bytes asked for');
      const live = await firstLive;
      // A future job, then SetNewPrevHash: the spec's order (§5.3.16, §5.3.17).
      assert.equal(live.job.minNtime, undefined, 'the first job is a future job');
      assert.equal(live.job.type, MessageType.NewExtendedMiningJob);
      assert.ok(live.job.type === MessageType.NewExtendedMiningJob && live.job.merklePath.length <= 20);
      assert.equal(live.nbits, 0x207fffff);
      // Never a channel target harder than the network's: on regtest every share is a block.
      assert.ok(le256(open.target) >= blockTarget('207fffff'), 'channel target no harder than the network target');
      const before = await node.rpc.call<number>('getblockcount');
      const version = (live.version | (0x0aaa6000 & MASK)) >>> 0;
      const solved = TestSv2Client.solve(live, blockTarget('207fffff'), { version, extranonce: Buffer.from('0000beef', 'hex') });
      const nextTip = c.nextLive(open.channelId, (j) => !j.prevHash.equals(live.prevHash), 30_000);
      c.submit(live, solved, 0);
      const verdict = await c.verdict(0);
      assert.equal(verdict.type, MessageType.SubmitSharesSuccess, show(verdict));
      assert.ok(verdict.type === MessageType.SubmitSharesSuccess && verdict.newSubmitsAcceptedCount === 1);
      const moved = await nextTip; // the block reached the node and the pool moved on
      assert.equal(moved.job.minNtime, undefined, 'a new tip comes as a future job made live by SetNewPrevHash');
      assert.equal(await node.rpc.call<number>('getblockcount'), before + 1);
      const block = await blockAt(node, before + 1);
      assert.equal(block.hash, solved.hash);
      assert.equal(block.version, version, 'the rolled version is in the header');
      assert.equal(paidTo(block).find((o) => o.value > 0)!.address, own);
      assert.ok(paidTo(block).some((o) => o.type === 'nulldata' && o.script.startsWith('6a24aa21a9ed')), 'witness commitment');
      assert.ok(block.tx[0]!.vin[0]!.txinwitness?.length === 1, 'the submitted coinbase carries the witness again');
      const w = p.pool.workers().find((x) => x.name === `${own}.bitaxe`)!;
      assert.equal(w.blocksFound, 1);
      assert.deepEqual(w.protocols, ['v2']);
      assert.equal(w.userAgent, 'bitaxe/BM1370/v2.14.0');
      await c.close();
      const summary = await p.stop();
      assert.deepEqual(summary.stats.outcomes, { accepted: 1 }, summary.lines.join('\n'));
      // The hour's report (written at the stop) counts the share on its wire.
      const hour = (await readReport(join(p.dir, 'reports', ...hourKey(Date.now()).split('/'), 'report.json'))) as HourReport;
      assert.deepEqual(hour.stratum?.byProtocol, { v2: { sharesAccepted: 1, sharesRejected: 0 } });
      assert.equal(hour.stratum?.workers.find((x) => x.name === `${own}.bitaxe`)?.blocksFound, 1);
      assert.ok(summary.lines.some((l) => /Stratum V2 pool on stratum2\+tcp:\/\/127\.0\.0\.1:\d+\/[1-9A-HJ-NP-Za-km-z]{51} .*"authorityKey":"[1-9A-HJ-NP-Za-km-z]{51}"/.test(l)), summary.lines.join('\n'));
      assert.ok(!summary.lines.some((l) => l.includes('"secret"')), 'the secret key is never logged');
    } finally {
      await c.close();
      await p.stop();
    }
  });

  it('a standard channel (header-only): the merkle root it is sent makes a block that pays the operator', async () => {
    const p = await startSv2PoolService(node, operator);
    const c = await TestSv2Client.connect(p.sv2!.port, { authorityKey: p.sv2!.authorityPublicKey });
    try {
      assert.equal((await c.setup(1)).type, MessageType.SetupConnectionSuccess);
      const firstLive = c.nextLive();
      // A password after ':' on a pool that asks none: ignored, and never part of the name.
      const open = (await c.open('standard', 'rig-9:not-shown')) as OpenStandardMiningChannelSuccess;
      assert.equal(open.type, MessageType.OpenStandardMiningChannelSuccess);
      assert.equal(open.extranoncePrefix.length, 8, 'the whole extranonce is the pool\'s');
      const live = await firstLive;
      assert.equal(live.job.type, MessageType.NewMiningJob);
      const before = await node.rpc.call<number>('getblockcount');
      const version = (live.version | 0x00002000) >>> 0;
      const solved = TestSv2Client.solve(live, blockTarget('207fffff'), { version });
      c.submit(live, solved, 7);
      assert.equal((await c.verdict(7)).type, MessageType.SubmitSharesSuccess);
      await c.nextLive(open.channelId, (j) => !j.prevHash.equals(live.prevHash), 30_000);
      const block = await blockAt(node, before + 1);
      assert.equal(block.hash, solved.hash);
      assert.equal(paidTo(block).find((o) => o.value > 0)!.address, operator);
      assert.deepEqual(p.pool.workers().map((w) => w.name), ['rig-9']);
    } finally {
      await c.close();
      await p.stop();
    }
  });

  it('every error code, and a refused channel or share leaves the connection mining', async () => {
    const p = await startSv2PoolService(node, operator, ['--stratum-password', 'sesame', '--stratum-addresses', own]);
    const clients: TestSv2Client[] = [];
    const connect = async () => {
      const c = await TestSv2Client.connect(p.sv2!.port);
      clients.push(c);
      return c;
    };
    try {
      // SetupConnection errors close the connection after the reply.
      const setupCases: Array<[Record<string, number>, string, number]> = [
        [{ protocol: 1 }, 'unsupported-protocol', 0],
        [{ minVersion: 3, maxVersion: 3 }, 'protocol-version-mismatch', 0],
        [{ flags: 0b10 }, 'unsupported-feature-flags', 0b10],
      ];
      for (const [change, code, flags] of setupCases) {
        const c = await connect();
        const e = (await c.setup(change.flags ?? 0, change)) as SetupConnectionError;
        assert.equal(e.type, MessageType.SetupConnectionError, code);
        assert.equal(e.errorCode, code);
        assert.equal(e.flags, flags);
        await c.next(() => false, 5000).catch(() => undefined);
        assert.ok(c.closed, `${code}: the connection is closed`);
      }
      const c = await connect();
      await c.setup(0);
      // OpenMiningChannel.Error: no password, a wrong one, an address not paid, another network,
      // more extranonce than the pool gives, a max_target harder than the network's.
      const other = await newAddress(node, 'sv2', 'bech32');
      const openCases: Array<[string, Parameters<TestSv2Client['open']>[2], string]> = [
        [own, {}, 'unknown-user'],
        [`${own}:wrong`, {}, 'unknown-user'],
        [`${other}.x:sesame`, {}, 'unknown-user'],
        ['bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4.x:sesame', {}, 'unknown-user'],
        [`${own}:sesame`, { minExtranonceSize: 5 }, 'min-extranonce-size-too-large'],
        [`${own}:sesame`, { maxTarget: Buffer.alloc(32, 0) }, 'max-target-out-of-range'],
      ];
      let requestId = 10;
      for (const [user, options, code] of openCases) {
        const e = (await c.open('extended', user, { ...options, requestId: ++requestId })) as OpenMiningChannelError;
        assert.equal(e.type, MessageType.OpenMiningChannelError, user);
        assert.equal(e.errorCode, code, user);
        assert.equal(e.requestId, requestId);
      }
      const firstLive = c.nextLive();
      const open = (await c.open('extended', `${own}.r:sesame`, { requestId: 99 })) as OpenExtendedMiningChannelSuccess;
      assert.equal(open.type, MessageType.OpenExtendedMiningChannelSuccess);
      const live = await firstLive;
      const target = blockTarget('207fffff');
      const refused = async (seq: number, code: string) => {
        const e = (await c.verdict(seq)) as SubmitSharesError;
        assert.equal(e.type, MessageType.SubmitSharesError, `share ${seq}: ${show(e)}`);
        assert.equal(e.errorCode, code, `share ${seq}`);
      };
      const good = TestSv2Client.solve(live, target, { extranonce: Buffer.from('00000001', 'hex') });
      // A channel that is not this connection's; a job that never was.
      c.submit(live, good, 1, 77);
      await refused(1, 'invalid-channel-id');
      c.send({ type: MessageType.SubmitSharesExtended, channelId: open.channelId, sequenceNumber: 2, jobId: 0xdeadbeef, nonce: good.nonce, ntime: good.ntime, version: good.version, extranonce: good.extranonce });
      await refused(2, 'invalid-job-id');
      // Fields that cannot be right: the wrong extranonce size, a version outside the mask, ntime far ahead.
      c.submit(live, { ...good, extranonce: Buffer.from('01', 'hex') }, 3);
      await refused(3, 'invalid-share');
      c.submit(live, { ...good, version: (good.version ^ 0x40000000) >>> 0 }, 4);
      await refused(4, 'invalid-share');
      c.submit(live, { ...good, ntime: good.ntime + 3 * 3600 }, 5);
      await refused(5, 'invalid-share');
      // Above the target (on regtest the channel target is the block target).
      const weak = TestSv2Client.solve(live, (1n << 256n) - 1n, { extranonce: Buffer.from('00000002', 'hex'), above: le256(open.target) });
      c.submit(live, weak, 6);
      await refused(6, 'difficulty-too-low');
      // A real share (a block), then the same again.
      const moved = c.nextLive(open.channelId, (j) => !j.prevHash.equals(live.prevHash), 30_000);
      c.submit(live, good, 8);
      assert.equal((await c.verdict(8)).type, MessageType.SubmitSharesSuccess);
      c.submit(live, good, 9);
      await refused(9, 'duplicate-share');
      // The tip moved: the old job's shares are stale.
      await moved;
      c.submit(live, TestSv2Client.solve(live, target, { extranonce: Buffer.from('00000003', 'hex') }), 10);
      await refused(10, 'stale-share');
      assert.ok(!c.closed, 'refusals leave the connection open');
      const w = p.pool.workers().find((x) => x.name === `${own}.r`)!;
      assert.equal(w.sharesAccepted, 1);
      assert.deepEqual(w.sharesRejected, { stale: 2, other: 3, 'low-difficulty': 1, duplicate: 1 });
      const status = p.recorder.status();
      assert.ok((status.pool?.sharesRejected['unauthorized'] ?? 0) >= 4, JSON.stringify(status.pool));
    } finally {
      for (const c of clients) await c.close();
      await p.stop();
    }
  });

  it('V1 and V2 beside each other: one pool, one budget, the same figures; /status and metrics say which wire', async () => {
    const p = await startSv2PoolService(node, operator, ['--stratum-max-per-address', '2', '--metrics-port', '0'], { withV1: true });
    assert.ok(p.port > 0 && p.sv2 !== undefined);
    const v1 = await TestStratumClient.connect(p.port);
    const v2 = await TestSv2Client.connect(p.sv2.port);
    try {
      const notify = v1.nextNotify();
      await v1.startLikeCpuminer(`${own}.both`);
      await notify;
      await v2.setup(0);
      const live = v2.nextLive();
      await v2.open('extended', `${own}.both`);
      await live;
      // The budget is shared: a third connection from this address is refused on either wire.
      const third = await TestSv2Client.connect(p.sv2.port).then(
        (c) => c,
        (err: Error) => err,
      );
      if (third instanceof TestSv2Client) {
        await third.next(() => false, 5000).catch(() => undefined);
        assert.ok(third.closed, 'the third connection is closed');
      }
      const w = p.pool.workers().find((x) => x.name === `${own}.both`)!;
      assert.equal(w.connections, 2);
      assert.deepEqual(w.protocols, ['v1', 'v2']);
      const status = p.recorder.status();
      assert.equal(status.pool?.connections, 2);
      assert.deepEqual(status.pool?.connectionsByProtocol, { v1: 1, v2: 1 });
      assert.equal(status.pool?.sv2?.authorityKey, p.sv2.authorityKey);
      assert.match(status.pool?.sv2?.url ?? '', new RegExp(`^stratum2\\+tcp://127\\.0\\.0\\.1:${p.sv2.port}/${p.sv2.authorityKey}$`));
      const text = await runCli(['status', '--url', p.recorder.metricsUrl!]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`^stratum pool stratum\\+tcp://127\\.0\\.0\\.1:${p.port}: 2 connection\\(s\\) \\(v1 1, v2 1\\), shares accepted 0$`, 'm'));
      assert.ok(text.stdout.split('\n').includes(`stratum v2: host 127.0.0.1, port ${p.sv2.port}, authority key ${p.sv2.authorityKey} (stratum2+tcp://127.0.0.1:${p.sv2.port}/${p.sv2.authorityKey})`), text.stdout);
      const metrics = await (await fetch(`${p.recorder.metricsUrl!}/metrics`)).text();
      assert.match(metrics, /^solominer_stratum_connections\{protocol="v1"\} 1$/m);
      assert.match(metrics, /^solominer_stratum_connections\{protocol="v2"\} 1$/m);
    } finally {
      await v1.close();
      await v2.close();
      await p.stop();
    }
  });

  it('the authority key is made once and kept: a restart serves the same public key', async () => {
    const first = await startSv2PoolService(node, operator);
    const key = first.sv2!.authorityKey;
    await first.stop();
    const second = await startSv2PoolService(node, operator, [], { dir: first.dir });
    try {
      assert.equal(second.sv2!.authorityKey, key);
      const c = await TestSv2Client.connect(second.sv2!.port, { authorityKey: second.sv2!.authorityPublicKey });
      assert.equal((await c.setup(0)).type, MessageType.SetupConnectionSuccess);
      await c.close();
    } finally {
      await second.stop();
    }
  });
});
