#!/usr/bin/env node
// Stratum pool benchmarks (docs/stratum.md), each figure measured in this one run:
//  1. fan-out, Stratum V1 and V2 side by side: a new block mined by RPC (generatetoaddress) on a
//     real regtest node → the last of N connections (1,000 and 5,000, in another process) has
//     received its clean mining.notify (V1) or its SetNewPrevHash (V2, after the future job):
//     p50/p99 over several tips. Both pools are live at once, each on its own node, and the tips
//     alternate between them, so the ratio V2/V1 is measured under the same load. The same kind of measurement as the ckpool anchor (from the
//     moment the block RPC returned); it includes ZMQ and getblocktemplate. Beside it, the
//     server's own figure (trigger → last job written) and the local engines' switch time.
//  2. memory per idle connection: the pool process's RSS growth over N connections.
//  3. shares validated per second on one core, V1 against V2: a whole mining.submit line through
//     a V1 connection (JSON, field checks, coinbase, 12-level merkle branch, header hash,
//     duplicate set, the reply) and a whole encrypted SubmitSharesExtended frame through a V2
//     connection (decryption, decoding, the same checks, the encrypted Success); the check alone.
//     Per CPU-second of the thread doing it, V1 and V2 in alternating slices.
//  3b. the Stratum V2 handshake's CPU per connection (the pool's side and the miner's), and
//     bytes per job on the wire: a mining.notify line against the encrypted V2 frames of a new
//     tip (future job + SetNewPrevHash) and of new transactions (an active job), and a share.
//  4. mining through a pool (mine --pool): the same engines' steady hash rate mining from the
//     node directly and through a solominer pool (a separate process) on a private signet, in
//     alternating rounds; and a pool job → every engine hashing it (p50/p99, the worker's side).
//
//   node scripts/bench-stratum.mjs [--connections 1000,5000] [--tips 20] [--sections 1,3,4] [--json]
import { fork } from 'node:child_process';
import { createECDH, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { p2wpkh, TEST_NETWORK } from '@scure/btc-signer';

const { values } = parseArgs({ options: { connections: { type: 'string', default: '1000,5000' }, tips: { type: 'string', default: '20' }, rounds: { type: 'string', default: '2' }, seconds: { type: 'string', default: '12' }, json: { type: 'boolean', default: false }, sections: { type: 'string', default: '1,3,4' } } });
const sections = new Set(values.sections.split(','));
const counts = values.connections.split(',').map(Number);
const tips = Number(values.tips);

const { LocalNode } = await import('../dist/src/devnode/local-node.js');
const { loadMineConfig } = await import('../dist/src/config/load-config.js');
const { runMineService } = await import('../dist/src/miner/service.js');
const { percentile } = await import('../dist/src/telemetry/run-tally.js');
const { buildJob } = await import('../dist/src/work/job.js');
const { addressToScript } = await import('../dist/src/bitcoin/address.js');
const { prepareJob, checkShare } = await import('../dist/src/stratum/share.js');
const { PoolCore } = await import('../dist/src/stratum/pool-core.js');
const { Connection } = await import('../dist/src/stratum/v1/connection.js');
const { notifyLineOf } = await import('../dist/src/stratum/v1/server.js');
const { Sv2Connection } = await import('../dist/src/stratum/v2/connection.js');
const { ServerIdentity } = await import('../dist/src/stratum/v2/authority.js');
const { NoiseInitiator } = await import('../dist/src/stratum/v2/noise.js');
const { EphemeralKeys } = await import('../dist/src/stratum/v2/ephemeral-keys.js');
const { FrameReader, FrameWriter } = await import('../dist/src/stratum/v2/frames.js');
const { MessageType, encodeMessage } = await import('../dist/src/stratum/v2/messages.js');
const { parseCertificate, verifyCertificate } = await import('../dist/src/stratum/v2/certificate.js');
const { schnorr } = await import('@noble/curves/secp256k1.js');

const say = values.json ? () => {} : (line) => console.log(line);
const stat = (xs) => ({ n: xs.length, p50: percentile(xs, 0.5), p99: percentile(xs, 0.99), max: xs.length ? Math.max(...xs) : NaN });
const fmt = (s) => `p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(1)} ms (n=${s.n})`;
const results = { cpu: cpus()[0]?.model ?? 'unknown', fanout: {}, sharesPerSecond: {}, sv2: {} };
say(`CPU: ${results.cpu}`);

/** A throwaway P2WPKH address: regtest's (bcrt1…) or a signet's (tb1…). */
function throwawayAddress(network = 'regtest') {
  const ecdh = createECDH('secp256k1');
  ecdh.generateKeys();
  return p2wpkh(Uint8Array.from(ecdh.getPublicKey(undefined, 'compressed')), network === 'regtest' ? { ...TEST_NETWORK, bech32: 'bcrt' } : TEST_NETWORK).address;
}

// --- 1 + 2: fan-out and memory -------------------------------------------------------------
// V1 and V2 side by side in one run: a V1 pool and a V2 pool (the same service, each on its own
// regtest node, so a block reaches only one of them), each with its N miners connected in a
// client process, both live for the whole measurement; tips alternate between them (V1, V2,
// V2, V1, …), so a load that comes and goes on a shared machine weighs on both alike.
const work = await mkdtemp(join(tmpdir(), 'solominer-bench-stratum-'));
const nodes = sections.has('1') ? { v1: await LocalNode.start({ network: 'regtest' }), v2: await LocalNode.start({ network: 'regtest' }) } : undefined;
try {
  const operator = throwawayAddress();
  for (const count of sections.has('1') ? counts : []) {
    const live = {};
    for (const protocol of ['v1', 'v2']) {
      const node = nodes[protocol];
      const abort = new AbortController();
      let onStarted;
      const started = new Promise((resolve) => (onStarted = resolve));
      const config = await loadMineConfig({
        argv: ['--network', 'regtest', '--rpc-url', node.rpcUrl, '--rpc-cookie', node.cookiePath, '--zmq', node.zmqEndpoint, '--address', operator,
          '--engines', 'none', ...(protocol === 'v1' ? ['--stratum-port', '0'] : ['--sv2-port', '0']), '--stratum-max-per-address', String(count + 10), '--journal', join(work, `j${count}-${protocol}.jsonl`), '--report-dir', join(work, `reports-${protocol}`)],
        env: {},
        cwd: work,
      });
      const run = runMineService({ config, log: () => {}, signal: abort.signal, onStarted: (l) => onStarted(l) });
      const { pool, miner } = await started;
      const port = protocol === 'v1' ? Number(new URL(pool.url.replace('stratum+tcp', 'http')).port) : pool.sv2.port;
      global.gc?.();
      const rssBefore = process.memoryUsage().rss;
      const connectStart = performance.now();
      const serverCpuBefore = process.cpuUsage();
      const clients = fork(new URL(protocol === 'v1' ? './bench-stratum-clients.mjs' : './bench-stratum-sv2-clients.mjs', import.meta.url), [String(port), String(count)]);
      const messages = [];
      let wake;
      clients.on('exit', (code) => {
        if (code) throw new Error(`the client process ended with code ${code}`);
      });
      clients.on('message', (m) => {
        messages.push(m);
        wake?.();
      });
      const next = async (type) => {
        for (;;) {
          const i = messages.findIndex((m) => m.type === type);
          if (i >= 0) return messages.splice(i, 1)[0];
          await new Promise((r) => (wake = r));
        }
      };
      await next('ready');
      const connectSeconds = (performance.now() - connectStart) / 1000;
      const cpu = process.cpuUsage(serverCpuBefore);
      global.gc?.();
      const rssAfter = process.memoryUsage().rss;
      const serverMs = [];
      const switchMs = [];
      pool.on('fanout', (e) => e.newTip && serverMs.push(e.ms));
      miner.on('job', (s) => s.newTip && switchMs.push(s.latencyMs));
      live[protocol] = { node, abort, run, clients, next, serverMs, switchMs, endToEnd: [], rssBefore, rssAfter, cpu, connectSeconds };
    }
    for (let i = 0; i < tips; i++) {
      for (const protocol of i % 2 === 0 ? ['v1', 'v2'] : ['v2', 'v1']) {
        const l = live[protocol];
        await l.node.rpc.call('generatetoaddress', 1, operator);
        const returned = performance.timeOrigin + performance.now();
        const m = await l.next('tip');
        l.endToEnd.push(m.at - returned);
      }
    }
    for (const protocol of ['v1', 'v2']) {
      const l = live[protocol];
      l.clients.send('close');
      l.abort.abort();
      await l.run;
      const r = {
        protocol,
        connections: count,
        rpcReturnedToLastNotifyReceivedMs: stat(l.endToEnd),
        triggerToLastNotifyWrittenMs: stat(l.serverMs),
        localEngineSwitchMs: stat(l.switchMs),
        bytesPerConnection: Math.round((l.rssAfter - l.rssBefore) / count),
        // The pool process's CPU while the N miners connected and logged in (V2: the handshakes).
        poolCpuMsPerConnection: (l.cpu.user + l.cpu.system) / 1000 / count,
        connectSeconds: l.connectSeconds,
      };
      results.fanout[`${protocol}-${count}`] = r;
      const wire = protocol === 'v1' ? 'Stratum V1' : 'Stratum V2';
      say(`${wire}, ${count} connections: block RPC returned → last ${protocol === 'v1' ? 'clean mining.notify' : 'SetNewPrevHash'} received ${fmt(r.rpcReturnedToLastNotifyReceivedMs)}`);
      say(`  trigger (ZMQ) → last job written ${fmt(r.triggerToLastNotifyWrittenMs)}; local engines' switch ${fmt(r.localEngineSwitchMs)}`);
      say(`  memory: ${(r.bytesPerConnection / 1024).toFixed(1)} KiB of pool RSS per idle connection; pool CPU to log them in ${r.poolCpuMsPerConnection.toFixed(2)} ms per connection (${r.connectSeconds.toFixed(1)} s for all)`);
    }
    const v1 = results.fanout[`v1-${count}`].rpcReturnedToLastNotifyReceivedMs;
    const v2 = results.fanout[`v2-${count}`].rpcReturnedToLastNotifyReceivedMs;
    say(`  ${count} connections, tips alternating: Stratum V2 / V1 p50 ${(v2.p50 / v1.p50).toFixed(2)}×, p99 ${(v2.p99 / v1.p99).toFixed(2)}×`);
  }
} finally {
  await nodes?.v1.stop();
  await nodes?.v2.stop();
  await rm(work, { recursive: true, force: true });
}

// --- 3: shares per second on one core, V1 against V2; handshake CPU; bytes per job -------------
if (sections.has('3')) {
  const now = Math.floor(Date.now() / 1000);
  const txs = Array.from({ length: 3000 }, () => {
    const id = randomBytes(32).toString('hex');
    return { data: '00', txid: id, hash: id };
  });
  const template = { version: 0x20000000, rules: ['csv', '!segwit', 'taproot'], previousblockhash: randomBytes(32).toString('hex'), transactions: txs, coinbasevalue: 312_500_000,
    // A mainnet-like target: no share here is a block, as in real life.
    target: '00000000000000000002f1280000000000000000000000000000000000000000', mintime: now - 600, curtime: now, bits: '1702f128', height: 900_000 };
  const payout = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4';
  const job = buildJob(template, { id: 'b', payoutScript: addressToScript(payout, 'main').script, coinbaseTag: '/solominer/', extranonceSize: 8, cleanJobs: true });
  const prepared = prepareJob(job);
  const n = 100_000;
  const extranonce = Buffer.alloc(8, 1);
  // Rates per CPU-second of the one thread doing the work (process.cpuUsage): what one core does,
  // whatever else the machine is running meanwhile.
  const cpuSeconds = (since) => {
    const u = process.cpuUsage(since);
    return (u.user + u.system) / 1e6;
  };
  let t = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    extranonce.writeUInt32BE(i >>> 0, 4);
    checkShare(prepared, { extranonce, ntime: now, nonce: 0, version: 0x20000000 }, 0x1fffe000, now);
  }
  const checkOnly = n / cpuSeconds(t);

  // One pool core (best shares in a scratch file) behind both wires, as in mine.
  const scratch = await mkdtemp(join(tmpdir(), 'solominer-bench-shares-'));
  const core = await PoolCore.open({ network: 'main', operatorAddress: payout, startDifficulty: 1e-12, minDifficulty: 1e-12, shareSeconds: 1e9, maxConnections: 10, maxConnectionsPerAddress: 10,
    idleTimeoutMs: 1e9, bestSharesPath: join(scratch, 'best.jsonl') }, () => false, () => {});
  core.setJob(job, true);

  // Stratum V1: whole mining.submit lines through a connection.
  const en1 = core.allocateExtranonce();
  const v1Host = { ...core.sessionHost, extranonce1: en1, extranonce2Size: 4, authorize: (u, p) => core.authorize(u, p),
    shareAccepted: (_c, w, owed, share, j) => core.accepted(w, owed, share, j, 'v1'), shareRejected: () => {}, ready: () => {} };
  const conn = new Connection(v1Host, () => {});
  conn.handleLine('{"id":1,"method":"mining.subscribe","params":[]}');
  conn.handleLine('{"id":2,"method":"mining.authorize","params":["w1","x"]}');
  const sj = core.jobFor(conn.worker);
  conn.sendJob(sj, notifyLineOf(sj));
  const ntime = now.toString(16);
  const lines = Array.from({ length: n }, (_, i) => `{"id":${i + 3},"method":"mining.submit","params":["w1","${sj.id}","${(i >>> 0).toString(16).padStart(8, '0')}","${ntime}","0000abcd"]}`);
  const accepted = { v1: 0, v2: 0 };
  core.on('share', (e) => accepted[e.protocol]++);

  // Stratum V2: whole encrypted SubmitSharesExtended frames through a connection.
  const identity = new ServerIdentity({ authoritySecret: schnorr.utils.randomSecretKey() });
  const out = [];
  const v2 = new Sv2Connection({ core, remote: 'bench', responder: () => identity.responder(), write: (b) => out.push(b), extendedJob: (j, future) => encodeMessage({
    type: MessageType.NewExtendedMiningJob, channelId: 0, jobId: j.seq, minNtime: future ? undefined : j.ntime, version: j.prepared.job.version, versionRollingAllowed: true,
    merklePath: j.prepared.job.merkleBranch, coinbaseTxPrefix: j.prepared.job.coinbase.coinb1, coinbaseTxSuffix: j.prepared.job.coinbase.coinb2 }) });
  const miner = new NoiseInitiator();
  v2.receive(miner.start());
  const { session } = miner.finish(out.shift());
  const writer = new FrameWriter(session.send);
  const reader = new FrameReader(session.recv, 1 << 20);
  v2.receive(writer.message({ type: MessageType.SetupConnection, protocol: 0, minVersion: 2, maxVersion: 2, flags: 0, endpointHost: '', endpointPort: 0, vendor: 'bench', hardwareVersion: '', firmware: '', deviceId: '' }));
  v2.receive(writer.message({ type: MessageType.OpenExtendedMiningChannel, requestId: 1, userIdentity: 'w2', nominalHashRate: 0, maxTarget: Buffer.alloc(32, 0xff), minExtranonceSize: 4 }));
  const opened = out.splice(0).flatMap((b) => reader.push(b));
  const channelId = 1;
  const jobFrames = opened.filter((f) => f.msgType === MessageType.NewExtendedMiningJob || f.msgType === MessageType.SetNewPrevHash);
  const v2Job = jobFrames.find((f) => f.msgType === MessageType.NewExtendedMiningJob).payload.readUInt32LE(4);
  const frames = Array.from({ length: n }, (_, i) => {
    const en = Buffer.alloc(4);
    en.writeUInt32BE(i >>> 0);
    return writer.message({ type: MessageType.SubmitSharesExtended, channelId, sequenceNumber: i, jobId: v2Job, nonce: 0x0000abcd, ntime: now, version: 0x20000000, extranonce: en });
  });
  out.length = 0;
  // V1 and V2 in alternating slices of 10,000 shares, so a load that comes and goes weighs on both.
  const spent = { v1: 0, v2: 0 };
  const SLICE = 10_000;
  for (let from = 0; from < n; from += SLICE) {
    for (const protocol of (from / SLICE) % 2 === 0 ? ['v1', 'v2'] : ['v2', 'v1']) {
      const begin = process.cpuUsage();
      if (protocol === 'v1') for (let i = from; i < from + SLICE; i++) conn.handleLine(lines[i]);
      else for (let i = from; i < from + SLICE; i++) v2.receive(frames[i]);
      spent[protocol] += cpuSeconds(begin);
    }
  }
  const v1Path = n / spent.v1;
  const v2Path = n / spent.v2;
  const v1Accepted = accepted.v1;
  const v2Accepted = accepted.v2;
  const successBytes = out[0]?.length ?? 0;
  results.sharesPerSecond = { merkleBranch: job.merkleBranch.length, checkOnly: Math.round(checkOnly), submitLineV1: Math.round(v1Path), submitFrameV2: Math.round(v2Path), acceptedV1: v1Accepted, acceptedV2: v2Accepted };
  say(`shares validated per CPU-second of one core (a ${job.merkleBranch.length}-level branch, V1 and V2 alternating): Stratum V1 ${Math.round(v1Path)}/s for a whole mining.submit line, Stratum V2 ${Math.round(v2Path)}/s for a whole encrypted SubmitSharesExtended frame (${(v2Path / v1Path).toFixed(2)}× V1), ${Math.round(checkOnly)}/s for the check alone`);

  // The handshake's CPU: the pool's side (act 1 → act 2) in all, its share on the event loop when
  // the ephemeral key was made ahead on the pool's worker thread (as the server does), and the
  // miner's (act 2 checked). Handshakes alternate between both ways in slices.
  const rounds = 300;
  const acts = Array.from({ length: 2 * rounds }, () => new NoiseInitiator());
  const act1s = acts.map((a) => a.start());
  const ahead = new EphemeralKeys(rounds);
  await ahead.whenReady(rounds);
  const madeAhead = Array.from({ length: rounds }, () => ahead.take());
  await ahead.close();
  const replies = new Array(2 * rounds);
  const hsCpu = { inline: 0, ahead: 0 };
  for (let i = 0; i < 2 * rounds; i += 20) {
    const way = (i / 20) % 2 === 0 ? 'inline' : 'ahead';
    const begin = process.cpuUsage();
    for (let j = i; j < i + 20; j++) replies[j] = (way === 'inline' ? identity.responder() : identity.responder(() => madeAhead[j >> 1])).respond(act1s[j]).reply;
    hsCpu[way] += cpuSeconds(begin);
  }
  let cpu0 = process.cpuUsage();
  const authorityKey = identity.authorityPublicKey;
  acts.forEach((a, i) => {
    const { server } = a.finish(replies[i]);
    verifyCertificate(parseCertificate(server.signatureMessage), server.staticKey, authorityKey, Math.floor(Date.now() / 1000));
  });
  const clientMs = cpuSeconds(cpu0) * 1000 / (2 * rounds);
  const poolMs = (hsCpu.inline * 1000) / rounds;
  const loopMs = (hsCpu.ahead * 1000) / rounds;
  results.sv2.handshakeCpuMs = { pool: poolMs, poolEventLoopKeyMadeAhead: loopMs, miner: clientMs };
  say(`Stratum V2 handshake CPU per connection: the pool ${poolMs.toFixed(2)} ms in all (ElligatorSwift key, decoding the miner's, two x-only ECDH), ${loopMs.toFixed(2)} ms of it on the event loop with the key made ahead on the worker thread; the miner ${clientMs.toFixed(2)} ms (the same, and the certificate's Schnorr check)`);

  // Bytes per job on the wire (a 12-level branch, this coinbase): what one miner receives.
  const notifyBytes = Buffer.byteLength(notifyLineOf(sj));
  const enc = new FrameWriter(new (await import('../dist/src/stratum/v2/noise.js')).CipherState(Buffer.alloc(32)));
  const futureJob = enc.frame(0x8000, MessageType.NewExtendedMiningJob, encodeMessage({ type: MessageType.NewExtendedMiningJob, channelId: 1, jobId: sj.seq, minNtime: undefined, version: job.version, versionRollingAllowed: true, merklePath: job.merkleBranch, coinbaseTxPrefix: job.coinbase.coinb1, coinbaseTxSuffix: job.coinbase.coinb2 })).length;
  const activeJob = enc.frame(0x8000, MessageType.NewExtendedMiningJob, encodeMessage({ type: MessageType.NewExtendedMiningJob, channelId: 1, jobId: sj.seq, minNtime: now, version: job.version, versionRollingAllowed: true, merklePath: job.merkleBranch, coinbaseTxPrefix: job.coinbase.coinb1, coinbaseTxSuffix: job.coinbase.coinb2 })).length;
  const prevHash = enc.message({ type: MessageType.SetNewPrevHash, channelId: 1, jobId: sj.seq, prevHash: job.prevHash, minNtime: now, nbits: job.bits }).length;
  const standardJob = enc.message({ type: MessageType.NewMiningJob, channelId: 1, jobId: sj.seq, minNtime: undefined, version: job.version, merkleRoot: Buffer.alloc(32) }).length;
  const submitV1 = Buffer.byteLength(`${lines[0]}\n`);
  const submitV2 = frames[0].length;
  results.sv2.bytes = { v1Notify: notifyBytes, v2ExtendedNewTip: futureJob + prevHash, v2ExtendedSameTip: activeJob, v2StandardNewTip: standardJob + prevHash, v1Submit: submitV1, v2Submit: submitV2, v2Success: successBytes };
  say(`bytes per job on the wire (${job.merkleBranch.length}-level branch): Stratum V1 mining.notify ${notifyBytes}; Stratum V2 extended channel ${futureJob + prevHash} for a new tip (future job ${futureJob} + SetNewPrevHash ${prevHash}), ${activeJob} for new transactions; standard channel ${standardJob + prevHash} for a new tip`);
  say(`  a share: Stratum V1 mining.submit ${submitV1} bytes, Stratum V2 SubmitSharesExtended ${submitV2} bytes (answered with ${successBytes})`);
  await core.close();
  await rm(scratch, { recursive: true, force: true });
}
// --- 4: through a pool against directly -----------------------------------------------------
if (sections.has('4')) {
  const { runPoolClientService } = await import('../dist/src/miner/client-service.js');
  const { freePorts } = await import('../dist/src/devnode/local-node.js');
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  const signet = await LocalNode.start({ network: 'signet' });
  const dir = await mkdtemp(join(tmpdir(), 'solominer-bench-pool-'));
  try {
    const address = throwawayAddress('signet');
    const [port] = await freePorts(1);
    const poolProcess = fork(new URL('../bin/solominer.js', import.meta.url), ['mine', '--network', 'signet', '--rpc-url', signet.rpcUrl, '--rpc-cookie', signet.cookiePath, '--zmq', signet.zmqEndpoint,
      '--address', address, '--engines', 'none', '--stratum-port', String(port), '--journal', join(dir, 'pool.jsonl'), '--report-dir', join(dir, 'pool-reports')], { stdio: 'ignore' });
    // The pool listens once its port accepts a connection.
    const { connect } = await import('node:net');
    for (;;) {
      const ok = await new Promise((resolve) => {
        const s = connect({ port, host: '127.0.0.1' }, () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      });
      if (ok) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    // Steady rate: hashes between 2 s in and the end, from the run's own tally.
    const measure = async (run) => {
      let tally;
      const abort = new AbortController();
      const samples = [];
      const done = run(abort.signal, (stats) => (tally = stats));
      await new Promise((r) => setTimeout(r, 2000));
      samples.push([performance.now(), tally.totalHashes]);
      await new Promise((r) => setTimeout(r, seconds * 1000));
      samples.push([performance.now(), tally.totalHashes]);
      abort.abort();
      const summary = await done;
      return { rate: (samples[1][1] - samples[0][1]) / ((samples[1][0] - samples[0][0]) / 1000), summary };
    };
    const base = ['--network', 'signet', '--threads', String(cpus().length), '--report-dir', join(dir, 'reports')];
    const direct = async (signal, onStats) => {
      const config = await loadMineConfig({ argv: [...base, '--rpc-url', signet.rpcUrl, '--rpc-cookie', signet.cookiePath, '--zmq', signet.zmqEndpoint, '--address', address, '--journal', join(dir, 'direct.jsonl')], env: {}, cwd: dir });
      return runMineService({ config, log: () => {}, signal, onStarted: ({ stats }) => onStats(stats) });
    };
    const throughPool = async (signal, onStats) => {
      const config = await loadMineConfig({ argv: [...base, '--pool', `stratum+tcp://127.0.0.1:${port}`, '--user', `${address}.bench`], env: {}, cwd: dir });
      return runPoolClientService({ config, log: () => {}, signal, onStarted: ({ stats }) => onStats(stats) });
    };
    const rates = { direct: [], pool: [] };
    const jobLatency = [];
    for (let r = 0; r < rounds; r++) {
      rates.direct.push((await measure(direct)).rate);
      const p = await measure(throughPool);
      rates.pool.push(p.rate);
      jobLatency.push(...p.summary.stats.switchLatencyMs);
    }
    poolProcess.kill('SIGTERM');
    await new Promise((r) => poolProcess.on('exit', r));
    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const cost = 1 - mean(rates.pool) / mean(rates.direct);
    results.throughPool = { threads: cpus().length, directMHs: rates.direct.map((x) => x / 1e6), poolMHs: rates.pool.map((x) => x / 1e6), cost, poolJobToEnginesMs: stat(jobLatency) };
    say(`through a pool (${cpus().length} threads, ${rounds} alternating rounds of ${seconds} s): direct ${rates.direct.map((x) => (x / 1e6).toFixed(2)).join(', ')} MH/s, through the pool ${rates.pool.map((x) => (x / 1e6).toFixed(2)).join(', ')} MH/s: the pool path costs ${(cost * 100).toFixed(2)} %`);
    say(`  pool job received → every engine hashing it: ${fmt(results.throughPool.poolJobToEnginesMs)}`);
  } finally {
    await signet.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
if (values.json) console.log(JSON.stringify(results));
