#!/usr/bin/env node
// The Stratum V2 client side of scripts/bench-stratum.mjs, in a process of its own so that the
// pool's process does nothing but serve: opens N Stratum V2 connections (the Noise handshake,
// SetupConnection, one extended channel each, a few handshakes at a time), then reports over IPC,
// for every new tip the parent announces, when the last connection received its SetNewPrevHash
// (performance.timeOrigin + now: one clock for both processes) — the moment every miner can
// start on the new block, as the V1 side's last clean mining.notify.
import { connect } from 'node:net';

const { NoiseInitiator, ACT2_SIZE } = await import('../dist/src/stratum/v2/noise.js');
const { FrameReader, FrameWriter } = await import('../dist/src/stratum/v2/frames.js');
const { decodeMessage, MessageType } = await import('../dist/src/stratum/v2/messages.js');

const [port, count] = process.argv.slice(2).map(Number);
const PARALLEL = 32;
const sockets = [];
const lastPrev = new Map(); // prev hash hex → [received count, last time]
let ready = 0;

function onMessage(state, m) {
  if (m.type !== MessageType.SetNewPrevHash) return;
  const prev = Buffer.from(m.prevHash).toString('hex');
  if (state.firstPrev === undefined) {
    state.firstPrev = prev;
    if (++ready === count) process.send({ type: 'ready' });
    return;
  }
  const entry = lastPrev.get(prev) ?? [0, 0];
  entry[0]++;
  entry[1] = performance.timeOrigin + performance.now();
  lastPrev.set(prev, entry);
  if (entry[0] === count) process.send({ type: 'tip', prevhash: prev, at: entry[1] });
}

function open(i) {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.setNoDelay(true);
    const noise = new NoiseInitiator();
    const state = { firstPrev: undefined, reader: undefined, handshake: Buffer.alloc(0) };
    socket.once('error', reject);
    socket.on('connect', () => socket.write(noise.start()));
    socket.on('data', (chunk) => {
      if (state.reader === undefined) {
        state.handshake = Buffer.concat([state.handshake, chunk]);
        if (state.handshake.length < ACT2_SIZE) return;
        const { session } = noise.finish(state.handshake.subarray(0, ACT2_SIZE));
        chunk = state.handshake.subarray(ACT2_SIZE);
        state.reader = new FrameReader(session.recv, 1 << 20);
        const writer = new FrameWriter(session.send);
        socket.write(Buffer.concat([
          writer.message({ type: MessageType.SetupConnection, protocol: 0, minVersion: 2, maxVersion: 2, flags: 0, endpointHost: '127.0.0.1', endpointPort: port, vendor: 'bench', hardwareVersion: '', firmware: '', deviceId: '' }),
          writer.message({ type: MessageType.OpenExtendedMiningChannel, requestId: 1, userIdentity: `rig${i}`, nominalHashRate: 0, maxTarget: Buffer.alloc(32, 0xff), minExtranonceSize: 4 }),
        ]));
        resolve(socket);
      }
      // Every frame is decrypted and authenticated; only SetNewPrevHash, the message that says
      // the new tip is there, is decoded (as the V1 side parses only mining.notify lines).
      for (const f of state.reader.push(chunk)) {
        if (f.msgType !== MessageType.SetNewPrevHash) continue;
        const m = decodeMessage(f.msgType, f.payload);
        if (m) onMessage(state, m);
      }
    });
  });
}

for (let i = 0; i < count; i += PARALLEL) {
  const batch = [];
  for (let j = i; j < Math.min(count, i + PARALLEL); j++) batch.push(open(j));
  sockets.push(...(await Promise.all(batch)));
}
process.on('message', (m) => {
  if (m === 'close') {
    for (const s of sockets) s.destroy();
    process.exit(0);
  }
});
