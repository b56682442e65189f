// solominer's SV2 client (`mine --pool stratum2+tcp://…`, src/stratum/v2/client.ts) against
// blitzpool's recorded server messages (test/fixtures/sv2/solominer-client-blitzpool.json: a
// regtest session of this client with blitzpool, both sides' keys fixed; its README names the
// versions). A scripted server on a real TCP socket plays blitzpool's recorded bytes — act 2 and
// every encrypted frame, unchanged — in the recorded order, each batch once the client has sent
// the frame that preceded it in the recording. The client, given the recorded ephemeral key and
// clock, must verify blitzpool's certificate, accept its SetupConnection.Success, channel and
// jobs, turn each job into work whose shares rebuild (by the pool's rules, from blitzpool's own
// messages) to hashes within blitzpool's target, and count blitzpool's SubmitShares.Success
// answers as accepted shares.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';

import { concatBytes, hashMeetsTarget, sha256d, u32LE, withNonce } from '../../src/bitcoin/index.js';
import { FrameReader } from '../../src/stratum/v2/frames.js';
import { Sv2Client } from '../../src/stratum/v2/client.js';
import { decodeKnown, MessageType, type Sv2Message } from '../../src/stratum/v2/messages.js';
import { NoiseInitiator, NoiseResponder } from '../../src/stratum/v2/noise.js';
import { targetFromLE } from '../../src/stratum/v2/target.js';
import { makeWorkUnit, type Job } from '../../src/work/job.js';
import { nextEvent, within } from '../support/events.js';
import { encryptedFrames, hex, loadSv2Fixture, parsePlainFrame, replayShares, type Direction } from '../support/sv2-transcript.js';

const f = loadSv2Fixture('solominer-client-blitzpool');
const ACT1 = 64;
const ACT2 = 234;

/** The responder's side of the recorded handshake, to read what the client sends. */
function responderSession() {
  const init = new NoiseInitiator({ secret: hex(f.initiator.ephemeralSecret), ellswift: hex(f.initiator.ephemeralEllswift) });
  init.start();
  const { server } = init.finish(hex(f.wire.s2c).subarray(0, ACT2));
  const r = f.responder;
  if (!r.staticSecret || !r.staticEllswift || !r.ephemeralSecret) throw new Error('fixture: responder keys missing');
  return new NoiseResponder({ secret: hex(r.staticSecret), ellswift: hex(r.staticEllswift) }, server.signatureMessage, {
    secret: hex(r.ephemeralSecret),
    ellswift: hex(r.ephemeralEllswift),
  }).respond(hex(f.wire.c2s).subarray(0, ACT1)).session;
}

/** A nonce whose header hash is within the job's share target (regtest-easy: a few thousand tries). */
function grind(job: Job, counter: number): { extranonce: Uint8Array; nonce: number } {
  const pool = job.pool!;
  const extranonce = concatBytes(pool.extranonce1, u32LE(counter));
  const unit = makeWorkUnit(job, extranonce, job.curtime);
  for (let nonce = 0; nonce < 0x100000; nonce++) {
    if (hashMeetsTarget(sha256d(withNonce(unit.header, nonce)), pool.shareTarget)) return { extranonce, nonce };
  }
  throw new Error('no share in 2^20 nonces: the share target is not what the recording had');
}

describe("solominer's SV2 client against blitzpool's recorded server messages", { timeout: 60_000 }, () => {
  const sockets = new Set<Socket>();
  const server = createServer((s) => sockets.add(s));
  after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });

  it("verifies blitzpool's certificate, opens the channel, mines its jobs and counts its answers as accepted shares", async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const frames = encryptedFrames(f, 's2c');
    const order = f.frames.map((x) => x.dir);
    const recordedClient = f.frames.filter((x) => x.dir === 'c2s').map((x) => parsePlainFrame(hex(x.hex)));
    const received: { dir: Direction; message: Sv2Message }[] = [];
    const fromClient: Sv2Message[] = [];

    // The scripted server: act 2 for the recorded act 1, then the recorded frames in order.
    const served = new Promise<void>((resolve, reject) => {
      server.once('connection', (socket) => {
        const session = responderSession();
        const reader = new FrameReader(session.recv, 1 << 20);
        let handshake: Buffer | undefined = Buffer.alloc(0);
        let next = 0;
        let sent = 0;
        const flush = () => {
          while (next < order.length && order[next] === 's2c') {
            const plain = parsePlainFrame(hex(f.frames[next]!.hex));
            received.push({ dir: 's2c', message: decodeKnown(plain.msgType, plain.payload) });
            socket.write(frames[sent++]!);
            next++;
          }
          if (next === order.length) resolve();
        };
        socket.on('data', (chunk: Buffer) => {
          try {
            if (handshake !== undefined) {
              handshake = Buffer.concat([handshake, chunk]);
              if (handshake.length < ACT1) return;
              assert.equal(handshake.subarray(0, ACT1).toString('hex'), f.wire.c2s.slice(0, 2 * ACT1), "act 1 is the client's recorded ephemeral key");
              chunk = handshake.subarray(ACT1);
              handshake = undefined;
              socket.write(hex(f.wire.s2c).subarray(0, ACT2));
            }
            for (const frame of reader.push(chunk)) {
              if (next === order.length) continue; // the recording ends here: later shares go unanswered
              assert.equal(order[next], 'c2s', `the client sent a frame (0x${frame.msgType.toString(16)}) where the recording has the server's`);
              const m = decodeKnown(frame.msgType, frame.payload);
              fromClient.push(m);
              received.push({ dir: 'c2s', message: m });
              next++;
              flush();
            }
          } catch (err) {
            reject(err);
          }
        });
      });
    });

    const client = new Sv2Client({
      urls: [`stratum2+tcp://127.0.0.1:${port}/${f.settings.authorityKey}`],
      user: f.settings.user,
      password: 'x',
      userAgent: 'solominer/interop-replay',
      ephemeral: () => ({ secret: hex(f.initiator.ephemeralSecret), ellswift: hex(f.initiator.ephemeralEllswift) }),
      nowSeconds: () => f.clock,
    });
    const warnings: string[] = [];
    client.on('warning', (w) => warnings.push(w));
    let counter = 0;
    const accepted: number[] = [];
    let allAccepted: () => void = () => {};
    const answered = new Promise<void>((resolve) => (allAccepted = resolve));
    client.on('share', (s) => {
      if (s.accepted) accepted.push(s.difficulty);
      else warnings.push(`share refused: ${s.reason}`);
      if (accepted.length === f.outcome.accepted) allAccepted();
    });
    client.on('job', ({ job }) => {
      const { extranonce, nonce } = grind(job, counter++);
      client.submit({ job, extranonce, ntime: job.curtime, nonce, version: job.version, difficulty: job.pool!.difficulty });
    });
    const connected = nextEvent<[{ extranonce1: string; extranonce2Size: number }]>(client, 'connected');
    client.start();
    try {
      const [c] = await connected;
      await within('every recorded frame to be played', served, 30_000);
      await within("blitzpool's recorded answers to be counted as accepted shares", answered);

      const recordedOpen = received.find((x) => x.message.type === MessageType.OpenExtendedMiningChannelSuccess)?.message;
      assert.ok(recordedOpen?.type === MessageType.OpenExtendedMiningChannelSuccess);
      assert.equal(c.extranonce1, Buffer.from(recordedOpen.extranoncePrefix).toString('hex'));
      assert.equal(c.extranonce2Size, recordedOpen.extranonceSize);

      // The client's own messages: as recorded, but for what legitimately differs (the endpoint
      // port of this test's server, the user agent given above).
      const [setup, open] = fromClient;
      assert.equal(setup?.type, MessageType.SetupConnection);
      const was = decodeKnown(recordedClient[0]!.msgType, recordedClient[0]!.payload);
      assert.ok(was.type === MessageType.SetupConnection);
      assert.deepEqual({ ...setup, endpointPort: 0, firmware: '' }, { ...was, endpointPort: 0, firmware: '' });
      assert.equal(setup.endpointPort, port);
      assert.deepEqual(open, decodeKnown(recordedClient[1]!.msgType, recordedClient[1]!.payload), 'OpenExtendedMiningChannel as recorded');

      // Every share rebuilt from blitzpool's own job messages lies within blitzpool's target.
      const shares = replayShares(received);
      assert.equal(shares.length, f.outcome.accepted);
      for (const r of shares) {
        const target = r.targets.map((t) => targetFromLE(t)).reduce((a, b) => (a > b ? a : b));
        assert.ok(hashMeetsTarget(r.hash, target), `share ${r.share.sequenceNumber}: within blitzpool's target`);
      }
      assert.equal(accepted.length, f.outcome.accepted);
      assert.deepEqual(warnings, []);
    } finally {
      await client.stop();
    }
  });
});
