// Stratum V2's frames and messages without a network (sv2-spec §3.1–§3.2, §4.6, §5.3): the exact
// bytes of the messages ESP-Miner reads and writes, written out by hand from the spec's tables;
// every message decodes to what was encoded; U256 targets little-endian; frames split into
// 65,519-byte chunks each with its MAC, read back from arbitrary pieces; truncated or overlong
// fields refused with the field named.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { DecodeError } from '../../src/stratum/v2/errors.js';
import { ciphertextLength, FrameReader, FrameWriter } from '../../src/stratum/v2/frames.js';
import { decodeMessage, encodeMessage, MessageType, type Sv2Message } from '../../src/stratum/v2/messages.js';
import { CipherState } from '../../src/stratum/v2/noise.js';
import { difficultyToTargetLE, targetLEToDifficulty } from '../../src/stratum/v2/target.js';

const h = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};
const str = (s: string) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s)]);

describe('Stratum V2 messages', { timeout: 30_000 }, () => {
  it('SetupConnection as ESP-Miner sends it: protocol 0, versions 2..2, flags, STR0_255 fields, port U16', () => {
    const m: Sv2Message = { type: MessageType.SetupConnection, protocol: 0, minVersion: 2, maxVersion: 2, flags: 1, endpointHost: 'pool.lan', endpointPort: 3336, vendor: 'bitaxe', hardwareVersion: 'BM1370', firmware: '', deviceId: '' };
    const expected = Buffer.concat([h('00 0200 0200 01000000'), str('pool.lan'), h('080d'), str('bitaxe'), str('BM1370'), str(''), str('')]);
    assert.deepEqual(encodeMessage(m), expected);
    assert.deepEqual(decodeMessage(0x00, expected), m);
  });

  it('SubmitSharesStandard is six U32 little-endian (24 bytes); SubmitSharesExtended adds a B0_32 extranonce', () => {
    const std: Sv2Message = { type: MessageType.SubmitSharesStandard, channelId: 1, sequenceNumber: 2, jobId: 0x01020304, nonce: 0xdeadbeef, ntime: 0x65000000, version: 0x20ffe000 };
    assert.deepEqual(encodeMessage(std), Buffer.concat([u32(1), u32(2), u32(0x01020304), u32(0xdeadbeef), u32(0x65000000), u32(0x20ffe000)]));
    const ext: Sv2Message = { ...std, type: MessageType.SubmitSharesExtended, extranonce: h('0000beef') };
    assert.deepEqual(encodeMessage(ext), Buffer.concat([encodeMessage(std), h('04 0000beef')]));
    assert.deepEqual(decodeMessage(0x1b, encodeMessage(ext)), ext);
  });

  it("OpenExtendedMiningChannel.Success in the order ESP-Miner parses it (target, extranonce_size, prefix, group)", () => {
    const target = difficultyToTargetLE(1);
    const m: Sv2Message = { type: MessageType.OpenExtendedMiningChannelSuccess, requestId: 1, channelId: 7, target, extranonceSize: 4, extranoncePrefix: h('a1b2c3d4'), groupChannelId: 0 };
    assert.deepEqual(encodeMessage(m), Buffer.concat([u32(1), u32(7), target, h('0400'), h('04a1b2c3d4'), u32(0)]));
  });

  it('NewMiningJob and NewExtendedMiningJob: min_ntime as OPTION[U32] (empty: a future job)', () => {
    const root = randomBytes(32);
    const future: Sv2Message = { type: MessageType.NewMiningJob, channelId: 1, jobId: 9, minNtime: undefined, version: 0x20000000, merkleRoot: root };
    assert.deepEqual(encodeMessage(future), Buffer.concat([u32(1), u32(9), h('00'), u32(0x20000000), root]));
    const active: Sv2Message = { ...future, minNtime: 0x65000000 };
    assert.deepEqual(encodeMessage(active), Buffer.concat([u32(1), u32(9), h('01'), u32(0x65000000), u32(0x20000000), root]));
    const path = [randomBytes(32), randomBytes(32)];
    const ext: Sv2Message = { type: MessageType.NewExtendedMiningJob, channelId: 1, jobId: 9, minNtime: undefined, version: 0x20000000, versionRollingAllowed: true, merklePath: path, coinbaseTxPrefix: h('0100'), coinbaseTxSuffix: h('ffffffff') };
    assert.deepEqual(encodeMessage(ext), Buffer.concat([u32(1), u32(9), h('00'), u32(0x20000000), h('01'), h('02'), ...path, h('0200 0100'), h('0400 ffffffff')]));
    assert.deepEqual(decodeMessage(0x1f, encodeMessage(ext)), ext);
  });

  it('every message decodes to what was encoded', () => {
    const t = randomBytes(32);
    const all: Sv2Message[] = [
      { type: MessageType.SetupConnectionSuccess, usedVersion: 2, flags: 0 },
      { type: MessageType.SetupConnectionError, flags: 2, errorCode: 'unsupported-feature-flags' },
      { type: MessageType.Reconnect, newHost: 'h', newPort: 0 },
      { type: MessageType.OpenStandardMiningChannel, requestId: 1, userIdentity: 'u.w', nominalHashRate: 1e12, maxTarget: t },
      { type: MessageType.OpenExtendedMiningChannel, requestId: 1, userIdentity: 'u.w', nominalHashRate: 0, maxTarget: t, minExtranonceSize: 2 },
      { type: MessageType.OpenStandardMiningChannelSuccess, requestId: 1, channelId: 2, target: t, extranoncePrefix: randomBytes(8), groupChannelId: 0 },
      { type: MessageType.OpenMiningChannelError, requestId: 1, errorCode: 'unknown-user' },
      { type: MessageType.UpdateChannel, channelId: 1, nominalHashRate: 5e11, maximumTarget: t },
      { type: MessageType.UpdateChannelError, channelId: 1, errorCode: 'invalid-channel-id' },
      { type: MessageType.CloseChannel, channelId: 1, reasonCode: 'bye' },
      { type: MessageType.SetExtranoncePrefix, channelId: 1, extranoncePrefix: randomBytes(4) },
      { type: MessageType.SubmitSharesSuccess, channelId: 1, lastSequenceNumber: 9, newSubmitsAcceptedCount: 3, newSharesSum: 12345678901n },
      { type: MessageType.SubmitSharesError, channelId: 1, sequenceNumber: 9, errorCode: 'stale-share' },
      { type: MessageType.SetNewPrevHash, channelId: 1, jobId: 3, prevHash: t, minNtime: 1, nbits: 0x1d00ffff },
      { type: MessageType.SetTarget, channelId: 1, maximumTarget: t },
    ];
    for (const m of all) {
      const back = decodeMessage(m.type, encodeMessage(m));
      // F32 round-trips through single precision.
      if (back && 'nominalHashRate' in back && 'nominalHashRate' in m) assert.ok(Math.abs(back.nominalHashRate - m.nominalHashRate) <= m.nominalHashRate * 1e-7);
      assert.deepEqual({ ...back, ...('nominalHashRate' in m && { nominalHashRate: m.nominalHashRate }) }, m, m.type.toString(16));
    }
    assert.equal(decodeMessage(0x7e, Buffer.alloc(0)), undefined, 'a type not in the table');
  });

  it('a truncated message or an overlong field is refused with the field named', () => {
    const ext = encodeMessage({ type: MessageType.SubmitSharesExtended, channelId: 1, sequenceNumber: 2, jobId: 3, nonce: 4, ntime: 5, version: 6, extranonce: h('00000000') });
    assert.throws(() => decodeMessage(0x1b, ext.subarray(0, 20)), (e: unknown) => e instanceof DecodeError && /^SubmitSharesExtended\.version: expected 4 more bytes, got 0/.test((e as Error).message));
    const long = Buffer.concat([ext.subarray(0, 24), h('21'), Buffer.alloc(33)]);
    assert.throws(() => decodeMessage(0x1b, long), /SubmitSharesExtended\.extranonce: expected at most 32 bytes, got a length of 33/);
  });

  it('targets are U256 little-endian: difficulty 1 is 0xffff·2^208 with its low bytes first', () => {
    const le = difficultyToTargetLE(1);
    assert.deepEqual(le, Buffer.concat([Buffer.alloc(26), h('ffff'), Buffer.alloc(4)]));
    assert.equal(targetLEToDifficulty(le), 1);
    assert.equal(targetLEToDifficulty(difficultyToTargetLE(2 ** -20)), 2 ** -20);
  });
});

describe('Stratum V2 frames', { timeout: 30_000 }, () => {
  const key = createHash('sha256').update('frames').digest();

  it('the header: extension_type U16 with the channel bit, msg_type, U24 length of the plaintext payload', () => {
    const tx = new FrameWriter(new CipherState(key));
    const rx = new CipherState(key);
    const frame = tx.message({ type: MessageType.SubmitSharesStandard, channelId: 1, sequenceNumber: 0, jobId: 1, nonce: 1, ntime: 1, version: 1 });
    assert.equal(frame.length, 22 + 24 + 16);
    assert.deepEqual(rx.decryptWithAd(new Uint8Array(0), frame.subarray(0, 22)), h('0080 1a 180000'));
    const setup = new FrameWriter(new CipherState(key)).message({ type: MessageType.SetupConnectionSuccess, usedVersion: 2, flags: 0 });
    assert.deepEqual(new CipherState(key).decryptWithAd(new Uint8Array(0), setup.subarray(0, 22)), h('0000 01 060000'), 'no channel bit on a connection message');
  });

  it('a payload over 65,519 bytes goes in chunks with a MAC each; read back from any pieces', () => {
    for (const size of [0, 1, 65519, 65520, 140_000]) {
      const tx = new FrameWriter(new CipherState(key));
      const rx = new FrameReader(new CipherState(key), 1 << 20);
      const payload = randomBytes(size);
      const a = tx.frame(0, 0x71, payload);
      const b = tx.frame(0x8000, 0x21, randomBytes(36));
      assert.equal(a.length, 22 + ciphertextLength(size), `${size}`);
      const all = Buffer.concat([a, b]);
      const frames = [];
      for (let at = 0; at < all.length; ) {
        const n = 1 + Math.floor(Math.random() * 9000);
        frames.push(...rx.push(all.subarray(at, at + n)));
        at += n;
      }
      assert.equal(frames.length, 2);
      assert.deepEqual(frames[0]!.payload, payload);
      assert.equal(frames[1]!.extensionType, 0x8000);
      assert.equal(rx.pending, 0);
    }
    assert.equal(ciphertextLength(140_000), 2 * 65535 + (140_000 - 2 * 65519) + 16);
  });

  it('a length over the limit is refused from the header alone', () => {
    const tx = new FrameWriter(new CipherState(key));
    const rx = new FrameReader(new CipherState(key), 16 * 1024);
    const big = tx.frame(0, 0x16, Buffer.alloc(16 * 1024 + 1));
    assert.throws(() => rx.push(big.subarray(0, 22)), /expected a payload of at most 16384 bytes, got a length of 16385/);
  });
});
