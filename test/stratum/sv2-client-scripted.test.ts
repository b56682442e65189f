// The Stratum V2 client (src/stratum/v2/client.ts) against scripted servers that say what real
// pools say and what no pool should: REQUIRES_FIXED_VERSION (blitzpool sends it: the jobs must
// then carry no version mask), a target set after a job (the jobs after it take it), a share's
// error code counted by kind, a SetNewPrevHash for a job never sent and a frame that does not
// decode (a warning and a reconnect, never a job), Reconnect on the same authority key.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';

import { schnorr } from '@noble/curves/secp256k1.js';

import { ServerIdentity } from '../../src/stratum/v2/authority.js';
import { Sv2Client } from '../../src/stratum/v2/client.js';
import { FrameReader, FrameWriter } from '../../src/stratum/v2/frames.js';
import { decodeMessage, MessageType, type Sv2Message } from '../../src/stratum/v2/messages.js';
import { difficultyToTargetLE } from '../../src/stratum/v2/target.js';
import type { Job } from '../../src/work/job.js';
import { nextEvent, within } from '../support/events.js';

type Script = (send: (m: Sv2Message) => void, got: Sv2Message, raw: (b: Buffer) => void) => void;

/** A Stratum V2 server that answers the handshake, then runs `script` on every message. */
class ScriptedSv2 {
  readonly identity = new ServerIdentity({ authoritySecret: schnorr.utils.randomSecretKey() });
  private readonly server: Server;
  readonly received: Sv2Message[] = [];
  readonly sockets = new Set<Socket>();
  port = 0;

  constructor(script: Script) {
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      let hs: Buffer | undefined = Buffer.alloc(0);
      let reader: FrameReader;
      let writer: FrameWriter;
      socket.on('data', (chunk: Buffer) => {
        if (hs !== undefined) {
          hs = Buffer.concat([hs, chunk]);
          if (hs.length < 64) return;
          const { reply, session } = this.identity.responder().respond(hs.subarray(0, 64));
          reader = new FrameReader(session.recv, 1 << 20);
          writer = new FrameWriter(session.send);
          socket.write(reply);
          chunk = hs.subarray(64);
          hs = undefined;
        }
        for (const f of reader.push(chunk)) {
          const m = decodeMessage(f.msgType, f.payload)!;
          this.received.push(m);
          script((x) => socket.write(writer.message(x)), m, (b) => socket.write(writer.frame(0x8000, MessageType.NewExtendedMiningJob, b)));
        }
      });
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  get url(): string {
    return `stratum2+tcp://127.0.0.1:${this.port}/${this.identity.authorityKey}`;
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }
}

const PREV = Buffer.alloc(32, 7);
const job = (jobId: number, minNtime: number | undefined, versionRollingAllowed = true): Sv2Message => ({
  type: MessageType.NewExtendedMiningJob,
  channelId: 1,
  jobId,
  minNtime,
  version: 0x20000000,
  versionRollingAllowed,
  merklePath: [],
  coinbaseTxPrefix: Buffer.from('01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff0d03', 'hex'),
  coinbaseTxSuffix: Buffer.from('ffffffff0100f2052a010000000451020000000000', 'hex'),
});

/** SetupConnection.Success with `flags`, an extended channel at `difficulty`, then `more`. */
function pool(flags: number, difficulty: number, more: (send: (m: Sv2Message) => void) => void, onShare?: (m: Sv2Message, send: (m: Sv2Message) => void) => void): ScriptedSv2 {
  return new ScriptedSv2((send, m) => {
    if (m.type === MessageType.SetupConnection) send({ type: MessageType.SetupConnectionSuccess, usedVersion: 2, flags });
    if (m.type === MessageType.OpenExtendedMiningChannel) {
      send({ type: MessageType.OpenExtendedMiningChannelSuccess, requestId: m.requestId, channelId: 1, target: difficultyToTargetLE(difficulty), extranonceSize: 4, extranoncePrefix: Buffer.from('a1b2c3d4', 'hex'), groupChannelId: 0 });
      more(send);
    }
    if (m.type === MessageType.SubmitSharesExtended) onShare?.(m, send);
  });
}

describe('the Stratum V2 client against scripted servers', { timeout: 60_000 }, () => {
  const servers: ScriptedSv2[] = [];
  const clients: Sv2Client[] = [];
  after(async () => {
    for (const c of clients) await c.stop();
    for (const s of servers) s.close();
  });
  const client = (urls: string[]) => {
    const c = new Sv2Client({ urls, user: 'bcrt1qworker.rig', password: 'x', userAgent: 'test', initialDelayMs: 20, maxDelayMs: 50, requestTimeoutMs: 2000 });
    clients.push(c);
    return c;
  };

  it('REQUIRES_FIXED_VERSION and version_rolling_allowed 0: said at login, and no job carries a mask', async () => {
    const s = await pool(1, 1, (send) => {
      send(job(5, undefined, false));
      send({ type: MessageType.SetNewPrevHash, channelId: 1, jobId: 5, prevHash: PREV, minNtime: 1_700_000_000, nbits: 0x207fffff });
    }).listen();
    servers.push(s);
    const c = client([s.url]);
    const connected = nextEvent<[{ versionRolling: boolean; extranonce1: string; extranonce2Size: number }]>(c, 'connected');
    const first = nextEvent<[{ job: Job; clean: boolean }]>(c, 'job');
    c.start();
    const [info] = await connected;
    assert.equal(info.versionRolling, false);
    assert.equal(info.extranonce1, 'a1b2c3d4');
    assert.equal(info.extranonce2Size, 4);
    const [{ job: j, clean }] = await first;
    assert.equal(clean, true);
    assert.equal(j.pool?.versionMask, 0);
    assert.equal(j.pool?.jobId, '5');
    assert.equal(j.curtime, 1_700_000_000);
    assert.deepEqual(Buffer.from(j.prevHash), PREV);
    // The login said who, with the nominal hash rate 0 and the extranonce the engines count in.
    const open = s.received.find((m) => m.type === MessageType.OpenExtendedMiningChannel);
    assert.ok(open && open.type === MessageType.OpenExtendedMiningChannel && open.userIdentity === 'bcrt1qworker.rig' && open.minExtranonceSize === 4);
    await c.stop();
  });

  it('a target set after a job applies to the jobs after it; rejects are counted by kind', async () => {
    const s = await pool(0, 1, (send) => {
      send(job(1, undefined));
      send({ type: MessageType.SetNewPrevHash, channelId: 1, jobId: 1, prevHash: PREV, minNtime: 1_700_000_000, nbits: 0x207fffff });
      send({ type: MessageType.SetTarget, channelId: 1, maximumTarget: difficultyToTargetLE(8) });
      send(job(2, 1_700_000_001));
    }, (m, send) => {
      if (m.type !== MessageType.SubmitSharesExtended) return;
      send({ type: MessageType.SubmitSharesError, channelId: 1, sequenceNumber: m.sequenceNumber, errorCode: m.jobId === 1 ? 'stale-share' : 'difficulty-too-low' });
    }).listen();
    servers.push(s);
    const c = client([s.url]);
    const jobs: Job[] = [];
    c.on('job', ({ job: j }) => jobs.push(j));
    c.start();
    await within('two jobs', nextEvent(c, 'job', () => jobs.length >= 2));
    assert.equal(jobs[0]!.pool!.difficulty, 1);
    assert.equal(jobs[1]!.pool!.difficulty, 8, 'the job after SetTarget');
    assert.equal(jobs[1]!.pool!.versionMask, 0x1fffe000);
    const verdicts: Array<{ accepted: boolean; reason?: string; kind?: string }> = [];
    c.on('share', (v) => verdicts.push(v));
    for (const j of jobs) c.submit({ job: j, extranonce: Buffer.from('a1b2c3d400000001', 'hex'), ntime: j.curtime, nonce: 1, version: j.version, difficulty: j.pool!.difficulty });
    await within('two verdicts', nextEvent(c, 'share', () => verdicts.length >= 2));
    assert.deepEqual(verdicts.map((v) => [v.reason, v.kind]), [['stale-share', 'stale'], ['difficulty-too-low', 'low-difficulty']]);
    const sent = s.received.filter((m) => m.type === MessageType.SubmitSharesExtended);
    assert.ok(sent.every((m) => m.type === MessageType.SubmitSharesExtended && Buffer.from(m.extranonce).toString('hex') === '00000001'), 'only the miner part of the extranonce');
    await c.stop();
  });

  it('a SetNewPrevHash for a job never sent: a warning and a reconnect, never a job', async () => {
    const s = await pool(0, 1, (send) => send({ type: MessageType.SetNewPrevHash, channelId: 1, jobId: 99, prevHash: PREV, minNtime: 1, nbits: 0x207fffff })).listen();
    servers.push(s);
    const c = client([s.url]);
    let jobs = 0;
    c.on('job', () => jobs++);
    const warned = nextEvent<[string]>(c, 'warning', (w) => /SetNewPrevHash for job 99, never sent as a future job; reconnecting/.test(w));
    c.start();
    await warned;
    await within('a second login', nextEvent(c, 'connected'));
    assert.equal(jobs, 0);
    await c.stop();
  });
});
