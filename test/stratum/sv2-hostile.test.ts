// The Stratum V2 wire under bad input, over real TCP against the pool core in this process (no
// node: a template of difficulty 1 whose shares at a tiny channel difficulty cost a few thousand
// hashes): a wrong authority key, a bad MAC, a replayed frame, a truncated one, a message before
// SetupConnection, unknown message types, an oversized length, a channel that is not theirs, a
// share for an unknown job, no channel in time, the connection cap — each closed or answered with
// its error code, while a well-behaved miner on the same pool keeps getting shares accepted.
// Also what SetTarget promises: shares of jobs sent before it are judged at the old target.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { schnorr } from '@noble/curves/secp256k1.js';

import { addressToScript } from '../../src/bitcoin/address.js';
import type { BlockTemplate } from '../../src/node/block-template.js';
import { PoolCore } from '../../src/stratum/pool-core.js';
import { ServerIdentity } from '../../src/stratum/v2/authority.js';
import { NoiseError } from '../../src/stratum/v2/errors.js';
import { MessageType, type OpenExtendedMiningChannelSuccess, type SubmitSharesError } from '../../src/stratum/v2/messages.js';
import { Sv2Server } from '../../src/stratum/v2/server.js';
import { difficultyToTargetLE } from '../../src/stratum/v2/target.js';
import { buildJob } from '../../src/work/job.js';
import { nextEvent, within } from '../support/events.js';
import { scratchDir } from '../support/mining.js';
import { le256, TestSv2Client, type LiveJob } from '../support/sv2-client.js';

const OPERATOR = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';
/** The channel difficulty every miner starts at: about one share per 4,000 hashes. */
const START = 2 ** -20;

function template(): BlockTemplate {
  const now = Math.floor(Date.now() / 1000);
  return {
    version: 0x20000000,
    rules: ['csv', '!segwit', 'taproot'],
    previousblockhash: randomBytes(32).toString('hex'),
    transactions: [],
    coinbasevalue: 5_000_000_000,
    target: '00000000ffff0000000000000000000000000000000000000000000000000000',
    mintime: now - 600,
    curtime: now,
    bits: '1d00ffff',
    height: 800_000,
  };
}

describe('Stratum V2 under bad input', { timeout: 120_000 }, () => {
  let core: PoolCore;
  let port: number;
  let identity: ServerIdentity;
  const tpl = template();
  const disconnects: Array<{ reason: string; remote: string }> = [];
  before(async () => {
    const dir = await scratchDir();
    core = await PoolCore.open(
      {
        network: 'regtest',
        operatorAddress: OPERATOR,
        startDifficulty: START,
        minDifficulty: 1e-12,
        shareSeconds: 10,
        maxConnections: 50,
        maxConnectionsPerAddress: 20,
        idleTimeoutMs: 1500,
        bestSharesPath: `${dir}/best.jsonl`,
      },
      () => false,
      () => undefined,
    );
    identity = new ServerIdentity({ authoritySecret: schnorr.utils.randomSecretKey() });
    const server = await Sv2Server.listen(core, { host: '127.0.0.1', port: 0, identity });
    void server;
    port = core.sv2!.port;
    core.on('disconnect', (e) => disconnects.push({ reason: e.reason, remote: e.remote }));
    core.setJob(buildJob(tpl, { id: 'h', payoutScript: addressToScript(OPERATOR, 'regtest').script, extranonceSize: 8, cleanJobs: true }), true);
  });
  after(async () => {
    await core?.close();
  });

  /** A miner with an extended channel open and its first live job. */
  async function miner(user = 'good'): Promise<{ c: TestSv2Client; live: LiveJob; open: OpenExtendedMiningChannelSuccess }> {
    const c = await TestSv2Client.connect(port, { authorityKey: identity.authorityPublicKey });
    await c.setup(0);
    const live = c.nextLive();
    const open = (await c.open('extended', user)) as OpenExtendedMiningChannelSuccess;
    assert.equal(open.type, MessageType.OpenExtendedMiningChannelSuccess);
    return { c, live: await live, open };
  }

  /** The reason the server gave when it closed `c`. */
  async function closedWith(c: TestSv2Client, timeoutMs = 10_000): Promise<string> {
    const local = `127.0.0.1:${c.socket.localPort}`;
    const found = () => disconnects.find((d) => d.remote === local);
    if (!found()) await within(`the server to close ${local}`, nextEvent(core, 'disconnect', (e: { remote: string }) => e.remote === local, timeoutMs), timeoutMs);
    return found()!.reason;
  }

  let seq = 0;
  /** A share of the good miner: accepted while the hostile ones do their worst. */
  async function goodShare(m: { c: TestSv2Client; live: LiveJob }): Promise<void> {
    const s = TestSv2Client.solve(m.live, m.live.target, { extranonce: randomBytes(4) });
    const n = seq++;
    m.c.submit(m.live, s, n);
    const v = await m.c.verdict(n);
    assert.equal(v.type, MessageType.SubmitSharesSuccess, `the good miner's share ${n}`);
  }

  it('a wrong authority key: the miner refuses the server before sending anything', async () => {
    const wrong = schnorr.getPublicKey(schnorr.utils.randomSecretKey());
    await assert.rejects(TestSv2Client.connect(port, { authorityKey: wrong }), (e: unknown) => e instanceof NoiseError && /not the authority key's/.test(e.message));
  });

  it('a bad MAC, a replayed frame, garbage after the handshake: closed; the good miner goes on', async () => {
    const good = await miner();
    await goodShare(good);

    const flipped = await TestSv2Client.connect(port);
    flipped.sentFrames.length = 0;
    await flipped.setup(0);
    const frame = Buffer.from(flipped.sentFrames[0]!);
    const replay = await TestSv2Client.connect(port);
    await replay.setup(0);
    replay.sendRaw(replay.sentFrames[0]!); // the same SetupConnection frame again: its nonce is spent
    assert.match(await closedWith(replay), /MAC does not verify/);

    const bad = await TestSv2Client.connect(port);
    frame[5]! ^= 1;
    bad.sendRaw(frame); // another session's frame: another key
    assert.match(await closedWith(bad), /MAC does not verify/);

    const garbage = await TestSv2Client.connect(port);
    garbage.sendRaw(randomBytes(64));
    assert.match(await closedWith(garbage), /MAC does not verify/);
    await flipped.close();
    await goodShare(good);
    await good.c.close();
  });

  it('a truncated frame: closed after the idle time; garbage where a frame should be: closed at once', async () => {
    const good = await miner();
    const stalled = await miner('stalled');
    stalled.c.sendRaw(randomBytes(10)); // the first 10 bytes of a frame that never completes
    assert.equal(await closedWith(stalled.c, 10_000), 'a frame left unfinished (truncated)');
    const mixed = await miner('mixed');
    mixed.c.sendRaw(randomBytes(30)); // 22 of them are read as a header: the MAC fails
    assert.match(await closedWith(mixed.c), /MAC does not verify/);
    await goodShare(good);
    await good.c.close();
  });

  it('a message before SetupConnection: SetupConnection.Error, then closed', async () => {
    const c = await TestSv2Client.connect(port);
    c.send({ type: MessageType.OpenStandardMiningChannel, requestId: 1, userIdentity: 'x', nominalHashRate: 0, maxTarget: Buffer.alloc(32, 0xff) });
    const e = await c.nextOfType(MessageType.SetupConnectionError);
    assert.equal(e.errorCode, 'setup-connection-required');
    assert.match(await closedWith(c), /OpenStandardMiningChannel before SetupConnection/);
  });

  it('unknown message types: ignored one by one (the channel still works); eight in a row close it', async () => {
    const m = await miner();
    m.c.sendFrame(0, 0x7e, Buffer.alloc(3));
    m.c.sendFrame(0x4001, 0x01, Buffer.alloc(3)); // an extension never negotiated: discarded (§3.4.1)
    await goodShare(m);
    for (let i = 0; i < 8; i++) m.c.sendFrame(0, 0x7e, Buffer.alloc(1));
    assert.match(await closedWith(m.c), /8 bad messages in a row \(the last: unknown message type 0x7e\)/);
  });

  it('an oversized length: closed before any of it is buffered', async () => {
    const c = await TestSv2Client.connect(port);
    await c.setup(0);
    // A frame whose header claims 1 MiB: the connection ends at the header.
    const frame = (c as unknown as { writer: { frame: (e: number, t: number, p: Uint8Array) => Buffer } }).writer.frame(0, MessageType.UpdateChannel, Buffer.alloc(17 * 1024));
    c.sendRaw(frame.subarray(0, 22));
    assert.match(await closedWith(c), /expected a payload of at most 16384 bytes, got a length of 17408/);
  });

  it('a channel that is not theirs, a job that never was: the error code, the connection open', async () => {
    const a = await miner('alice');
    const b = await miner('bob');
    const share = TestSv2Client.solve(a.live, a.live.target, { extranonce: randomBytes(4) });
    b.c.submit(a.live, share, 1, a.open.channelId + 100);
    assert.equal(((await b.c.verdict(1)) as SubmitSharesError).errorCode, 'invalid-channel-id');
    b.c.send({ type: MessageType.SubmitSharesExtended, channelId: b.open.channelId, sequenceNumber: 2, jobId: 12345, nonce: 0, ntime: share.ntime, version: share.version, extranonce: share.extranonce });
    assert.equal(((await b.c.verdict(2)) as SubmitSharesError).errorCode, 'invalid-job-id');
    // Alice's share sent on Bob's channel: rebuilt with Bob's extranonce prefix, it is not the hash Alice found.
    b.c.submit(b.live, share, 3);
    assert.equal(((await b.c.verdict(3)) as SubmitSharesError).errorCode, 'difficulty-too-low');
    assert.ok(!b.c.closed);
    await goodShare(a);
    const alice = core.workers().find((w) => w.name === 'alice')!;
    assert.deepEqual(alice.sharesRejected, {}, "Bob's refusals are not Alice's");
    await a.c.close();
    await b.c.close();
  });

  it('a miner that does not read its socket is dropped; one that reads keeps up', async () => {
    const reading = await miner('reading');
    let latest = '';
    reading.c.on('live', (j) => (latest = Buffer.from(j.prevHash).reverse().toString('hex')));
    const stuck = await miner('stuck');
    stuck.c.socket.pause();
    const local = `127.0.0.1:${stuck.c.socket.localPort}`;
    const dropped = nextEvent<[{ remote: string; reason: string }]>(core, 'disconnect', (e) => e.remote === local, 60_000);
    let gone = false;
    void dropped.then(() => (gone = true));
    const payout = addressToScript(OPERATOR, 'regtest').script;
    let last = '';
    // Jobs until the kernel's buffers and then the pool's 1 MiB for that socket are full.
    for (let i = 0; i < 60_000 && !gone; i++) {
      const t = { ...template(), previousblockhash: randomBytes(32).toString('hex') };
      last = t.previousblockhash;
      core.setJob(buildJob(t, { id: `s${i}`, payoutScript: payout, extranonceSize: 8, cleanJobs: true }), true);
      if (i % 200 === 0) await new Promise((r) => setImmediate(r));
    }
    const [e] = await dropped;
    assert.equal(e.reason, 'not reading its socket');
    // What the stuck miner left unread is the kernel's until its socket goes: let it go first.
    await stuck.c.close();
    if (latest !== last) await reading.c.nextLive(reading.open.channelId, () => latest === last, 30_000);
    assert.equal(latest, last, 'the reading miner got every tip up to the last');
    await reading.c.close();
    core.setJob(buildJob(tpl, { id: 'back', payoutScript: payout, extranonceSize: 8, cleanJobs: true }), true);
  });

  it('no channel within the idle time: closed', async () => {
    const idle = await TestSv2Client.connect(port);
    await idle.setup(0);
    assert.equal(await closedWith(idle), 'no channel open in time');
  });

  it('SetTarget: jobs sent before it are judged at the old target, jobs after it at the new one', async () => {
    const m = await miner('target');
    assert.equal(le256(m.open.target), le256(difficultyToTargetLE(START)));
    // The miner asks for a 16 times smaller maximum target: SetTarget, then a job at once.
    const setTarget = m.c.nextOfType(MessageType.SetTarget);
    const newLive = m.c.nextLive(m.open.channelId, (j) => j.target !== m.live.target);
    m.c.send({ type: MessageType.UpdateChannel, channelId: m.open.channelId, nominalHashRate: 0, maximumTarget: difficultyToTargetLE(START * 16) });
    assert.equal(le256((await setTarget).maximumTarget), le256(difficultyToTargetLE(START * 16)));
    const again = await newLive;
    assert.notEqual(again.job.minNtime, undefined, 'same tip: an active job, no SetNewPrevHash');
    assert.notEqual(again.jobId, m.live.jobId, 'the same work under a new job_id (a valid job_id is never reused)');
    // New transactions (a new job on the same tip): the first job sent at the new target.
    const newer = m.c.nextLive(m.open.channelId, (j) => j.jobId !== m.live.jobId && j.jobId !== again.jobId);
    core.setJob(buildJob(tpl, { id: 'h2', payoutScript: addressToScript(OPERATOR, 'regtest').script, extranonceSize: 8, cleanJobs: false }), false);
    const fresh = await newer;
    assert.equal(fresh.target, le256(difficultyToTargetLE(START * 16)));
    // A share under the old target but not the new one: accepted on the old job...
    const oldTarget = le256(difficultyToTargetLE(START));
    const newTarget = le256(difficultyToTargetLE(START * 16));
    const between = TestSv2Client.solve(m.live, oldTarget, { extranonce: randomBytes(4), above: newTarget });
    m.c.submit(m.live, between, 100);
    assert.equal((await m.c.verdict(100)).type, MessageType.SubmitSharesSuccess);
    // The same share under the job's new id is the same share.
    m.c.submit(again, between, 103);
    assert.equal(((await m.c.verdict(103)) as SubmitSharesError).errorCode, 'duplicate-share');
    // ...refused on the job sent after SetTarget.
    const weak = TestSv2Client.solve(fresh, oldTarget, { extranonce: randomBytes(4), above: newTarget });
    m.c.submit(fresh, weak, 101);
    assert.equal(((await m.c.verdict(101)) as SubmitSharesError).errorCode, 'difficulty-too-low');
    const strong = TestSv2Client.solve(fresh, newTarget, { extranonce: randomBytes(4) });
    m.c.submit(fresh, strong, 102);
    assert.equal((await m.c.verdict(102)).type, MessageType.SubmitSharesSuccess);
    await m.c.close();
  });

  it('a channel asked for before the pool has work is answered with the first job, its target capped at the network target', async () => {
    const dir = await scratchDir();
    // A regtest-like template: the network target is easier than difficulty 1 (every other hash).
    const easy: BlockTemplate = { ...template(), bits: '207fffff', target: '7fffff0000000000000000000000000000000000000000000000000000000000' };
    const early = await PoolCore.open(
      { network: 'regtest', operatorAddress: OPERATOR, startDifficulty: 1, minDifficulty: 1e-12, shareSeconds: 10, maxConnections: 5, maxConnectionsPerAddress: 5, idleTimeoutMs: 1e9, bestSharesPath: `${dir}/best.jsonl` },
      () => false,
      () => undefined,
    );
    try {
      await Sv2Server.listen(early, { host: '127.0.0.1', port: 0, identity });
      const c = await TestSv2Client.connect(early.sv2!.port);
      await c.setup(0);
      const live = c.nextLive();
      const opened = c.open('extended', 'early');
      // No answer while there is no job: the target would have to be guessed.
      const answeredEarly = await Promise.race([opened.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 300))]);
      assert.equal(answeredEarly, false, 'answered before the pool had a job');
      early.setJob(buildJob(easy, { id: 'e', payoutScript: addressToScript(OPERATOR, 'regtest').script, extranonceSize: 8, cleanJobs: true }), true);
      const open = (await opened) as OpenExtendedMiningChannelSuccess;
      assert.equal(open.type, MessageType.OpenExtendedMiningChannelSuccess);
      assert.deepEqual(le256(open.target), BigInt(`0x${easy.target}`), 'the channel target is the network target, never harder');
      await live;
      await c.close();
    } finally {
      await early.close();
    }
  });

  it('a quiet chain: a miner that had no frame for a minute gets its unchanged target again (ESP-Miner gives up at 180 s)', async () => {
    let clock = Date.now();
    const dir = await scratchDir();
    const quiet = await PoolCore.open(
      { network: 'regtest', operatorAddress: OPERATOR, startDifficulty: START, minDifficulty: 1e-12, shareSeconds: 10, maxConnections: 5, maxConnectionsPerAddress: 5, idleTimeoutMs: 1e9, bestSharesPath: `${dir}/best.jsonl`, now: () => clock },
      () => false,
      () => undefined,
    );
    try {
      await Sv2Server.listen(quiet, { host: '127.0.0.1', port: 0, identity });
      quiet.setJob(buildJob(tpl, { id: 'q', payoutScript: addressToScript(OPERATOR, 'regtest').script, extranonceSize: 8, cleanJobs: true }), true);
      const c = await TestSv2Client.connect(quiet.sv2!.port);
      await c.setup(0);
      const live = c.nextLive();
      const open = (await c.open('extended', 'quiet')) as OpenExtendedMiningChannelSuccess;
      await live;
      const keepalive = c.nextOfType(MessageType.SetTarget, 10_000);
      clock += 61_000;
      const t = await keepalive;
      assert.deepEqual(Buffer.from(t.maximumTarget), Buffer.from(open.target), 'the same target');
      await c.close();
    } finally {
      await quiet.close();
    }
  });
});
