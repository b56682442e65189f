// ESP-Miner's recorded bytes against solominer's live SV2 pool (`mine --engines none --sv2-port`
// on a real regtest node, over real TCP), the pool given the keys it had at the recording
// (test/fixtures/sv2/esp-miner-solominer-{extended,standard}.json: one pool run, extended channel
// first): the firmware's act 1, SetupConnection and Open*MiningChannel, sent as recorded, must be
// answered with the recorded bytes exactly — act 2 and SetupConnection.Success — encrypted under
// the same keys and nonces. What legitimately differs, and is asserted field by field instead:
// - the channel's Success carries the pool's extranonce prefix, counted from a random start at
//   every pool start (so two runs never hand out the same coinbase space); every other field
//   (request and channel id, the network target, extranonce size, group) is as recorded, and its
//   encrypted header block is the recorded one;
// - the work: this node's chain and template (height, coinbase, time) are not the recording's, so
//   the jobs that follow are checked for the same flow (a future job, then SetNewPrevHash naming
//   it, on the channel just opened; a SetTarget may go first, as before any job it applies to),
//   and the recorded shares, which belong to the recording's jobs, are not sent.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { FrameReader } from '../../src/stratum/v2/frames.js';
import { decodeKnown, messageName, MessageType, type Sv2Message } from '../../src/stratum/v2/messages.js';
import { NoiseInitiator } from '../../src/stratum/v2/noise.js';
import { nextEvent } from '../support/events.js';
import { startSv2PoolService, type RunningPool } from '../support/pool.js';
import { createWallet, newAddress, startRegtest, type LocalNode } from '../support/regtest.js';
import { encryptedFrames, hex, loadSv2Fixture, parsePlainFrame, type Sv2Fixture } from '../support/sv2-transcript.js';

const ACT1 = 64;
const ACT2 = 234;
/** In recorded order: one pool served both, the extended channel first. */
const SESSIONS = ['esp-miner-solominer-extended', 'esp-miner-solominer-standard'].map(loadSv2Fixture);

/** Bytes from a socket, taken by count, each wait limited in time. */
class Incoming {
  private buf = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private closed = false;

  constructor(socket: Socket) {
    socket.on('data', (b: Buffer) => {
      this.buf = Buffer.concat([this.buf, b]);
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }

  async take(n: number, what: string, timeoutMs = 10_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.buf.length < n) {
      if (this.closed) throw new Error(`${what}: the pool closed the connection after ${this.buf.length} of ${n} bytes`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what}: ${this.buf.length} of ${n} bytes after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Whatever has arrived so far. */
  drain(): Buffer {
    const out = this.buf;
    this.buf = Buffer.alloc(0);
    return out;
  }
}

function need(v: string | undefined, what: string): Buffer {
  if (v === undefined) throw new Error(`fixture: ${what} missing`);
  return hex(v);
}

describe("solominer's SV2 pool answers ESP-Miner's recorded frames", { timeout: 120_000 }, () => {
  let node: LocalNode;
  let operator: string;
  let pool: RunningPool | undefined;
  before(async () => {
    node = await startRegtest();
    operator = await newAddress(node, await createWallet(node, 'sv2-replay'), 'bech32');
  });
  after(async () => {
    await pool?.stop();
    await node?.stop();
  });

  it('act 2 and SetupConnection.Success as recorded, the channel Success as recorded but for its extranonce prefix, then jobs in the recorded flow', async () => {
    const [first] = SESSIONS as [Sv2Fixture, Sv2Fixture];
    for (const f of SESSIONS) {
      assert.equal(f.responder.staticSecret, first.responder.staticSecret, 'both sessions were served by one pool run');
    }
    const ephemerals = SESSIONS.map((f) => ({ secret: need(f.responder.ephemeralSecret, 'responder.ephemeralSecret'), ellswift: hex(f.responder.ephemeralEllswift) }));
    const p = await startSv2PoolService(node, operator, [], {
      service: {
        sv2Keys: {
          authoritySecret: need(first.responder.authoritySecret, 'responder.authoritySecret'),
          staticKey: { secret: need(first.responder.staticSecret, 'responder.staticSecret'), ellswift: need(first.responder.staticEllswift, 'responder.staticEllswift') },
          ephemeral: () => {
            const e = ephemerals.shift();
            if (!e) throw new Error('more handshakes than recorded');
            return e;
          },
          auxRand: need(first.responder.certificateAuxRand, 'responder.certificateAuxRand'),
          // The certificate starts an hour back: the recording's clock gives its window again.
          nowSeconds: () => first.certificate.validFrom + 3600,
        },
      },
    });
    pool = p;
    assert.equal(p.sv2?.authorityKey, first.settings.authorityKey, 'the authority key ESP-Miner was configured with');
    // The pool listens before its first getblocktemplate; ESP-Miner met a pool that had work (a
    // channel opened earlier is announced the start difficulty, capped by the network only once
    // the first job is known).
    if (p.pool.networkTarget === undefined) await nextEvent(p.pool, 'fanout', () => p.pool.networkTarget !== undefined);

    for (const f of SESSIONS) {
      const sent = encryptedFrames(f, 'c2s');
      const answers = encryptedFrames(f, 's2c');
      const socket: Socket = connect(p.sv2!.port, '127.0.0.1');
      const incoming = new Incoming(socket);
      try {
        socket.write(hex(f.wire.c2s).subarray(0, ACT1));
        assert.equal((await incoming.take(ACT2, 'act 2')).toString('hex'), f.wire.s2c.slice(0, 2 * ACT2), `${f.settings.channel}: act 2`);
        socket.write(sent[0]!);
        assert.equal((await incoming.take(answers[0]!.length, 'SetupConnection.Success')).toString('hex'), answers[0]!.toString('hex'), `${f.settings.channel}: SetupConnection.Success`);
        socket.write(sent[1]!);
        const success = await incoming.take(answers[1]!.length, 'the channel Success');
        assert.equal(success.subarray(0, 22).toString('hex'), answers[1]!.subarray(0, 22).toString('hex'), 'its encrypted header block');

        const init = new NoiseInitiator({ secret: hex(f.initiator.ephemeralSecret), ellswift: hex(f.initiator.ephemeralEllswift) });
        init.start();
        const reader = new FrameReader(init.finish(hex(f.wire.s2c).subarray(0, ACT2)).session.recv, 1 << 20);
        const [, channel] = reader.push(Buffer.concat([answers[0]!, success])).map((x) => decodeKnown(x.msgType, x.payload));
        const recorded = parsePlainFrame(hex(f.frames.filter((x) => x.dir === 's2c')[1]!.hex));
        const was = decodeKnown(recorded.msgType, recorded.payload);
        assert.ok(channel?.type === MessageType.OpenStandardMiningChannelSuccess || channel?.type === MessageType.OpenExtendedMiningChannelSuccess);
        assert.ok(was.type === channel.type, `${f.settings.channel}: ${was.type} recorded`);
        assert.equal(channel.extranoncePrefix.length, was.extranoncePrefix.length, 'an extranonce prefix of the recorded size');
        assert.deepEqual({ ...channel, extranoncePrefix: undefined }, { ...was, extranoncePrefix: undefined }, 'every other field as recorded');

        // From here the work is this node's: the same flow, other bytes.
        const live: Sv2Message[] = [];
        while (!live.some((m) => m.type === MessageType.SetNewPrevHash)) {
          const chunk = Buffer.concat([await incoming.take(1, 'the first job'), incoming.drain()]);
          live.push(...reader.push(chunk).map((x) => decodeKnown(x.msgType, x.payload)));
        }
        const seen = `${f.settings.channel}: after the channel opened: ${live.map((m) => messageName(m.type)).join(', ')}`;
        // A SetTarget may come first (a target is sent before the job it applies to).
        const job = live.find((m) => m.type !== MessageType.SetTarget);
        const prev = live.find((m) => m.type === MessageType.SetNewPrevHash);
        assert.equal(job?.type, f.settings.channel === 'standard' ? MessageType.NewMiningJob : MessageType.NewExtendedMiningJob, seen);
        assert.ok(job.type === MessageType.NewMiningJob || job.type === MessageType.NewExtendedMiningJob);
        assert.equal(job.minNtime, undefined, `a future job first (${seen})`);
        assert.equal(job.channelId, channel.channelId);
        assert.ok(prev?.type === MessageType.SetNewPrevHash);
        const future = live.filter((m) => (m.type === MessageType.NewMiningJob || m.type === MessageType.NewExtendedMiningJob) && m.minNtime === undefined).map((m) => (m as { jobId: number }).jobId);
        assert.ok(future.includes(prev.jobId), `SetNewPrevHash names a future job sent before it (${seen})`);
        assert.equal(prev.nbits, 0x207fffff);
      } finally {
        socket.destroy();
      }
    }
  });
});
