#!/usr/bin/env node
// The client side of scripts/bench-stratum.mjs, in a process of its own so that the pool's
// process does nothing but serve: opens N Stratum connections (subscribe, authorize), then
// reports over IPC, for every new tip the parent announces, when the last connection received
// its clean mining.notify (performance.timeOrigin + now: one clock for both processes).
import { connect } from 'node:net';

const [port, count] = process.argv.slice(2).map(Number);
const sockets = [];
const lastClean = new Map(); // prevhash → [received count, last time]

function onLine(state, line) {
  if (!line.includes('"mining.notify"')) return;
  const msg = JSON.parse(line);
  if (msg.method !== 'mining.notify') return;
  const [, prevhash, , , , , , , clean] = msg.params;
  if (!clean) return;
  if (state.firstJob === undefined) {
    state.firstJob = prevhash;
    if (++ready === count) process.send({ type: 'ready' });
    return;
  }
  const entry = lastClean.get(prevhash) ?? [0, 0];
  entry[0]++;
  entry[1] = performance.timeOrigin + performance.now();
  lastClean.set(prevhash, entry);
  if (entry[0] === count) process.send({ type: 'tip', prevhash, at: entry[1] });
}

let ready = 0;
for (let i = 0; i < count; i++) {
  const socket = await new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });
  const state = { buffer: '', firstJob: undefined };
  socket.setEncoding('utf8');
  socket.on('data', (chunk) => {
    state.buffer += chunk;
    let nl;
    while ((nl = state.buffer.indexOf('\n')) >= 0) {
      const line = state.buffer.slice(0, nl);
      state.buffer = state.buffer.slice(nl + 1);
      onLine(state, line);
    }
  });
  socket.write(`{"id":1,"method":"mining.subscribe","params":["bench"]}\n{"id":2,"method":"mining.authorize","params":["rig${i}","x"]}\n`);
  sockets.push(socket);
}
process.on('message', (m) => {
  if (m === 'close') {
    for (const s of sockets) s.destroy();
    process.exit(0);
  }
});
