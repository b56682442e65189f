// Recorded Stratum V2 sessions of third-party code (test/fixtures/sv2/, whose README names the
// programs, versions, commits and the keys fixed for each recording) replayed against solominer's
// SV2 code (sv2-spec §4 Noise, §3.2 frames, §5.3 Mining Protocol):
// - ESP-Miner's own SV2 client (its components/stratum_v2 and SV2 task, built on Linux) against
//   solominer's pool and against blitzpool, on both channel types;
// - solominer's own client against blitzpool (plaintext decrypted with blitzpool's Noise code).
// What a replay proves:
// - the initiator's act 1 with the responder's act 2 give solominer's initiator the session and a
//   certificate that verifies under the authority key the miner was given;
// - solominer's responder, holding the recorded responder keys, answers act 1 with the recorded
//   234 bytes exactly, so the recorded frames decrypt with its session;
// - every frame decrypts to the plaintext logged at recording time, solominer's decoder reads every
//   message and re-encodes it to the same bytes, and solominer's frame writer re-encrypts both
//   streams to the recorded bytes;
// - every share submitted rebuilds, by solominer's header rules, to a hash within the channel's
//   target, and the ones within nBits are the blocks the node accepted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { BIP320_VERSION_MASK, bitsToTarget, hashMeetsTarget, hashToBigInt, reverseBytes, bytesToHex } from '../../src/bitcoin/index.js';
import { decodeAuthorityKey, parseCertificate, verifyCertificate } from '../../src/stratum/v2/certificate.js';
import { NoiseError } from '../../src/stratum/v2/errors.js';
import { ESP_MINER_MAX_PAYLOAD, FrameReader, FrameWriter } from '../../src/stratum/v2/frames.js';
import { decodeKnown, encodeMessage, isChannelMessage, MessageType, type Sv2Message } from '../../src/stratum/v2/messages.js';
import { NoiseInitiator, NoiseResponder, xOnlyPublicKey, type NoiseSession } from '../../src/stratum/v2/noise.js';
import { targetFromLE } from '../../src/stratum/v2/target.js';
import { hex, loadSv2Fixture, parsePlainFrame, plainFrame, replayShares, type Direction, type Sv2Fixture } from '../support/sv2-transcript.js';

const FIXTURES = [
  'esp-miner-solominer-extended',
  'esp-miner-solominer-standard',
  'esp-miner-solominer-signet-standard',
  'esp-miner-blitzpool-extended',
  'esp-miner-blitzpool-standard',
  'solominer-client-blitzpool',
];
/** nBits of regtest: every other hash is a block. */
const REGTEST_BITS = 0x207fffff;
const ACT1 = 64;
const ACT2 = 234;

function need(value: string | undefined, what: string): Buffer {
  if (value === undefined) throw new Error(`fixture: ${what} missing`);
  return hex(value);
}

/** Both ends of the recorded handshake, rebuilt from the fixture's keys. */
function handshake(f: Sv2Fixture): { initiator: NoiseSession; responder: NoiseSession; signatureMessage: Buffer; serverKey: Uint8Array; reply: Buffer } {
  const c2s = hex(f.wire.c2s);
  const s2c = hex(f.wire.s2c);
  const init = new NoiseInitiator({ secret: hex(f.initiator.ephemeralSecret), ellswift: hex(f.initiator.ephemeralEllswift) });
  init.start();
  const { session: initiator, server } = init.finish(s2c.subarray(0, ACT2));
  const responder = new NoiseResponder(
    { secret: need(f.responder.staticSecret, 'responder.staticSecret'), ellswift: need(f.responder.staticEllswift, 'responder.staticEllswift') },
    server.signatureMessage,
    { secret: need(f.responder.ephemeralSecret, 'responder.ephemeralSecret'), ellswift: hex(f.responder.ephemeralEllswift) },
  );
  const { reply, session } = responder.respond(c2s.subarray(0, ACT1));
  return { initiator, responder: session, signatureMessage: server.signatureMessage, serverKey: server.staticKey, reply };
}

/** Every frame of both streams, decrypted, in the fixture's recorded order. */
function decryptAll(f: Sv2Fixture): { dir: Direction; bytes: Buffer; message: Sv2Message }[] {
  const { initiator, responder } = handshake(f);
  const fromClient = new FrameReader(responder.recv, ESP_MINER_MAX_PAYLOAD);
  const fromServer = new FrameReader(initiator.recv, ESP_MINER_MAX_PAYLOAD);
  const c2s = fromClient.push(hex(f.wire.c2s).subarray(ACT1));
  const s2c = fromServer.push(hex(f.wire.s2c).subarray(ACT2));
  assert.equal(fromClient.pending, 0, 'the client stream ends on a frame boundary');
  assert.equal(fromServer.pending, 0, 'the server stream ends on a frame boundary');
  const queues = { c2s: [...c2s], s2c: [...s2c] };
  return f.frames.map(({ dir }) => {
    const frame = queues[dir].shift();
    assert.ok(frame, `${dir}: fewer frames on the wire than in the log`);
    return { dir, bytes: plainFrame(frame), message: decodeKnown(frame.msgType, frame.payload) };
  });
}

for (const name of FIXTURES) {
  const f = loadSv2Fixture(name);
  describe(`${name}: ${f.client.split(' ')[0]} SV2 client against ${f.server.split(' ')[0]}, ${f.settings.channel} channel`, { timeout: 30_000 }, () => {
    it("handshake: the recorded act 1 and act 2 give solominer's initiator a certificate that verifies under the configured authority key", () => {
      const init = new NoiseInitiator({ secret: hex(f.initiator.ephemeralSecret), ellswift: hex(f.initiator.ephemeralEllswift) });
      assert.deepEqual(init.start(), hex(f.wire.c2s).subarray(0, ACT1), "act 1 is the initiator's ephemeral key");
      const { server } = init.finish(hex(f.wire.s2c).subarray(0, ACT2));
      if (f.responder.staticSecret) assert.deepEqual(Buffer.from(server.staticKey), Buffer.from(xOnlyPublicKey(hex(f.responder.staticSecret))));
      const cert = parseCertificate(server.signatureMessage);
      assert.deepEqual({ version: cert.version, validFrom: cert.validFrom, notValidAfter: cert.notValidAfter }, f.certificate, 'the fields logged at recording');
      const authority = decodeAuthorityKey(f.settings.authorityKey);
      verifyCertificate(cert, server.staticKey, authority, f.clock);
      const stranger = xOnlyPublicKey(Uint8Array.from({ length: 32 }, (_, i) => i + 1));
      assert.throws(() => verifyCertificate(cert, server.staticKey, stranger, f.clock), NoiseError, 'another authority key');
      assert.throws(() => verifyCertificate(cert, server.staticKey, authority, f.certificate.notValidAfter + 3600), NoiseError, 'an expired window');
    });

    it("responder: with the pool's recorded keys, solominer answers the recorded act 1 with the recorded 234 bytes", () => {
      const { reply } = handshake(f);
      assert.equal(bytesToHex(reply), f.wire.s2c.slice(0, 2 * ACT2));
    });

    it('frames: both streams decrypt to the plaintext logged at recording, and solominer re-encrypts them to the recorded bytes', () => {
      const frames = decryptAll(f);
      assert.deepEqual(frames.map((x) => x.bytes.toString('hex')), f.frames.map((x) => x.hex));
      const { initiator, responder } = handshake(f);
      const writers = { c2s: new FrameWriter(initiator.send), s2c: new FrameWriter(responder.send) };
      const written: Record<Direction, Buffer[]> = { c2s: [], s2c: [] };
      for (const x of f.frames) {
        const p = parsePlainFrame(hex(x.hex));
        written[x.dir].push(writers[x.dir].frame(p.extensionType, p.msgType, p.payload));
      }
      assert.equal(Buffer.concat(written.c2s).toString('hex'), f.wire.c2s.slice(2 * ACT1), 'client stream');
      assert.equal(Buffer.concat(written.s2c).toString('hex'), f.wire.s2c.slice(2 * ACT2), 'server stream');
    });

    it('messages: solominer decodes every message of both sides and re-encodes each to the same payload; channel bits as §8 has them', () => {
      for (const { bytes, message } of decryptAll(f)) {
        const p = parsePlainFrame(bytes);
        assert.equal(encodeMessage(message).toString('hex'), p.payload.toString('hex'), `message 0x${p.msgType.toString(16)}`);
        assert.equal((p.extensionType & 0x8000) !== 0, isChannelMessage(p.msgType), `channel bit of 0x${p.msgType.toString(16)}`);
      }
    });

    it("the initiator's own messages: SetupConnection, the channel it opens (ESP-Miner's fixed values), shares counted from 0", () => {
      const esp = f.client.startsWith('ESP-Miner');
      const sent = decryptAll(f).filter((x) => x.dir === 'c2s').map((x) => x.message);
      const setup = sent[0];
      assert.equal(setup?.type, MessageType.SetupConnection);
      assert.equal(setup.protocol, 0);
      assert.equal(setup.minVersion, 2);
      assert.equal(setup.maxVersion, 2);
      assert.equal(setup.flags, f.settings.channel === 'standard' ? 1 : 0, 'REQUIRES_STANDARD_JOBS for a standard channel only');
      assert.equal(setup.vendor, esp ? 'bitaxe' : 'solominer');
      assert.equal(setup.endpointHost, f.settings.host);
      assert.equal(setup.endpointPort, f.settings.port);
      const open = sent[1];
      assert.ok(open?.type === MessageType.OpenStandardMiningChannel || open?.type === MessageType.OpenExtendedMiningChannel);
      assert.equal(open.type, f.settings.channel === 'standard' ? MessageType.OpenStandardMiningChannel : MessageType.OpenExtendedMiningChannel);
      assert.equal(open.requestId, 1);
      assert.equal(open.userIdentity, f.settings.user);
      if (esp) {
        assert.equal(open.nominalHashRate, Math.fround(1e12), 'ESP-Miner always declares 1 TH/s');
        assert.equal(Buffer.from(open.maxTarget).toString('hex'), 'ff'.repeat(32));
        if (open.type === MessageType.OpenExtendedMiningChannel) assert.equal(open.minExtranonceSize, 2);
      }
      const shares = sent.filter((m) => m.type === MessageType.SubmitSharesStandard || m.type === MessageType.SubmitSharesExtended);
      assert.ok(shares.length >= 3, `at least three shares recorded, got ${shares.length}`);
      assert.deepEqual(shares.map((s) => s.sequenceNumber), shares.map((_, i) => i), 'sequence numbers count from 0');
    });

    it('every share rebuilds, by solominer header rules, to a hash within its channel target; those within nBits are the blocks the node accepted', () => {
      const all = decryptAll(f);
      const replayed = replayShares(all);
      const answers = all.filter((x) => x.message.type === MessageType.SubmitSharesSuccess || x.message.type === MessageType.SubmitSharesError).map((x) => x.message);
      const accepted = answers.reduce((n, m) => n + (m.type === MessageType.SubmitSharesSuccess ? m.newSubmitsAcceptedCount : 0), 0);
      assert.equal(accepted, f.outcome.accepted);
      const rejected = new Set(answers.flatMap((m) => (m.type === MessageType.SubmitSharesError ? [m.sequenceNumber] : [])));
      const blocks = new Set(f.blocks);
      let found = 0;
      let regtestShares = 0;
      for (const r of replayed) {
        const jobVersion = all.find((x) => (x.message.type === MessageType.NewMiningJob || x.message.type === MessageType.NewExtendedMiningJob) && x.message.jobId === r.share.jobId);
        assert.ok(jobVersion && 'version' in jobVersion.message);
        const base = (jobVersion.message as { version: number }).version;
        assert.equal((r.share.version & ~BIP320_VERSION_MASK) >>> 0, (base & ~BIP320_VERSION_MASK) >>> 0, 'only BIP320 bits rolled');
        if (rejected.has(r.share.sequenceNumber)) continue;
        const easiest = r.targets.map((t) => targetFromLE(t)).reduce((a, b) => (a > b ? a : b));
        assert.ok(hashToBigInt(r.hash) <= easiest, `share ${r.share.sequenceNumber}: hash above every target its job was sent under`);
        const nbits = Buffer.from(r.header).readUInt32LE(72);
        if (nbits === REGTEST_BITS) regtestShares++;
        if (hashMeetsTarget(r.hash, bitsToTarget(nbits))) {
          assert.ok(blocks.has(bytesToHex(reverseBytes(r.hash))), `share ${r.share.sequenceNumber} is a block the node accepted`);
          found++;
        }
      }
      assert.ok(found >= 1, 'at least one share was a block');
      const setTargets = all.flatMap((x) => (x.message.type === MessageType.SetTarget ? [Buffer.from(x.message.maximumTarget).toString('hex')] : []));
      if (setTargets.length > 0) {
        // A target sent mid-session (vardiff): shares of the jobs after it were found at it.
        const after = replayed.filter((r) => !rejected.has(r.share.sequenceNumber) && r.targets.length === 1 && setTargets.includes(Buffer.from(r.targets[0]!).toString('hex')));
        assert.ok(after.length >= 1, 'a share on a job sent after a SetTarget');
        for (const r of after) assert.ok(hashToBigInt(r.hash) <= targetFromLE(r.targets[0]!), `share ${r.share.sequenceNumber}: within the new target`);
      }
      if (f.server.startsWith('solominer') && regtestShares > 0) {
        // The pool keeps a channel target no harder than the network's (docs/stratum.md): on
        // regtest every share it accepted was a block.
        assert.equal(found, replayed.length - rejected.size, 'every accepted share was a block');
      }
    });

    it("a flipped bit in the initiator's first frame fails its MAC: NoiseError", () => {
      const { responder } = handshake(f);
      const wire = hex(f.wire.c2s).subarray(ACT1);
      wire[3] = wire[3]! ^ 0x01;
      assert.throws(() => new FrameReader(responder.recv, ESP_MINER_MAX_PAYLOAD).push(wire), NoiseError);
    });
  });
}
