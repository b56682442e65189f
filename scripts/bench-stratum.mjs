#!/usr/bin/env node
// Stratum pool benchmarks (docs/stratum.md), each figure measured in this one run:
//  1. fan-out: a new block mined by RPC (generatetoaddress) on a real regtest node → the last of
//     N connections (1,000 and 5,000, in another process) has received its clean mining.notify:
//     p50/p99 over several tips. The same kind of measurement as the ckpool anchor (from the
//     moment the block RPC returned); it includes ZMQ and getblocktemplate. Beside it, the
//     server's own figure (trigger → last notify written) and the local engines' switch time.
//  2. memory per idle connection: the pool process's RSS growth over N connections.
//  3. shares validated per second on one core: a full mining.submit line through a connection
//     (JSON, field checks, coinbase, 12-level merkle branch, header hash, duplicate set), and
//     the share check alone.
//  4. mining through a pool (mine --pool): the same engines' steady hash rate mining from the
//     node directly and through a solominer pool (a separate process) on a private signet, in
//     alternating rounds; and a pool job → every engine hashing it (p50/p99, the worker's side).
//
//   node scripts/bench-stratum.mjs [--connections 1000,5000] [--tips 20] [--json]
import { fork } from 'node:child_process';
import { createECDH, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { p2wpkh, TEST_NETWORK } from '@scure/btc-signer';

const { values } = parseArgs({ options: { connections: { type: 'string', default: '1000,5000' }, tips: { type: 'string', default: '20' }, rounds: { type: 'string', default: '2' }, seconds: { type: 'string', default: '12' }, json: { type: 'boolean', default: false } } });
const counts = values.connections.split(',').map(Number);
const tips = Number(values.tips);

const { LocalNode } = await import('../dist/src/devnode/local-node.js');
const { loadMineConfig } = await import('../dist/src/config/load-config.js');
const { runMineService } = await import('../dist/src/miner/service.js');
const { percentile } = await import('../dist/src/telemetry/run-tally.js');
const { buildJob } = await import('../dist/src/work/job.js');
const { addressToScript } = await import('../dist/src/bitcoin/address.js');
const { prepareJob, checkShare } = await import('../dist/src/stratum/share.js');
const { JobBook } = await import('../dist/src/stratum/job-book.js');
const { Connection } = await import('../dist/src/stratum/connection.js');

const say = values.json ? () => {} : (line) => console.log(line);
const stat = (xs) => ({ n: xs.length, p50: percentile(xs, 0.5), p99: percentile(xs, 0.99), max: xs.length ? Math.max(...xs) : NaN });
const fmt = (s) => `p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(1)} ms (n=${s.n})`;
const results = { cpu: cpus()[0]?.model ?? 'unknown', fanout: {}, sharesPerSecond: {} };
say(`CPU: ${results.cpu}`);

/** A throwaway P2WPKH address: regtest's (bcrt1…) or a signet's (tb1…). */
function throwawayAddress(network = 'regtest') {
  const ecdh = createECDH('secp256k1');
  ecdh.generateKeys();
  return p2wpkh(Uint8Array.from(ecdh.getPublicKey(undefined, 'compressed')), network === 'regtest' ? { ...TEST_NETWORK, bech32: 'bcrt' } : TEST_NETWORK).address;
}

// --- 1 + 2: fan-out and memory -------------------------------------------------------------
const work = await mkdtemp(join(tmpdir(), 'solominer-bench-stratum-'));
const node = await LocalNode.start({ network: 'regtest' });
try {
  const operator = throwawayAddress();
  for (const count of counts) {
    const abort = new AbortController();
    let live;
    const started = new Promise((resolve) => (live = resolve));
    const config = await loadMineConfig({
      argv: ['--network', 'regtest', '--rpc-url', node.rpcUrl, '--rpc-cookie', node.cookiePath, '--zmq', node.zmqEndpoint, '--address', operator,
        '--engines', 'none', '--stratum-port', '0', '--stratum-max-per-address', String(count + 10), '--journal', join(work, `j${count}.jsonl`), '--report-dir', join(work, 'reports')],
      env: {},
      cwd: work,
    });
    const run = runMineService({ config, log: () => {}, signal: abort.signal, onStarted: (l) => live(l) });
    const { pool, miner } = await started;
    const port = Number(new URL(pool.url.replace('stratum+tcp', 'http')).port);
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const clients = fork(new URL('./bench-stratum-clients.mjs', import.meta.url), [String(port), String(count)]);
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
    global.gc?.();
    const rssAfter = process.memoryUsage().rss;
    const serverMs = [];
    const switchMs = [];
    pool.on('fanout', (e) => e.newTip && serverMs.push(e.ms));
    miner.on('job', (s) => s.newTip && switchMs.push(s.latencyMs));
    const endToEnd = [];
    for (let i = 0; i < tips; i++) {
      await node.rpc.call('generatetoaddress', 1, operator);
      const returned = performance.timeOrigin + performance.now();
      const m = await next('tip');
      endToEnd.push(m.at - returned);
    }
    clients.send('close');
    abort.abort();
    await run;
    const r = {
      connections: count,
      rpcReturnedToLastNotifyReceivedMs: stat(endToEnd),
      triggerToLastNotifyWrittenMs: stat(serverMs),
      localEngineSwitchMs: stat(switchMs),
      bytesPerConnection: Math.round((rssAfter - rssBefore) / count),
    };
    results.fanout[count] = r;
    say(`${count} connections: block RPC returned → last notify received ${fmt(r.rpcReturnedToLastNotifyReceivedMs)}`);
    say(`  trigger (ZMQ) → last notify written ${fmt(r.triggerToLastNotifyWrittenMs)}; local engines' switch ${fmt(r.localEngineSwitchMs)}`);
    say(`  memory: ${(r.bytesPerConnection / 1024).toFixed(1)} KiB of pool RSS per idle connection`);
  }
} finally {
  await node.stop();
  await rm(work, { recursive: true, force: true });
}

// --- 3: shares per second on one core --------------------------------------------------------
{
  const now = Math.floor(Date.now() / 1000);
  const txs = Array.from({ length: 3000 }, () => {
    const id = randomBytes(32).toString('hex');
    return { data: '00', txid: id, hash: id };
  });
  const template = { version: 0x20000000, rules: ['csv', '!segwit', 'taproot'], previousblockhash: randomBytes(32).toString('hex'), transactions: txs, coinbasevalue: 312_500_000,
    // A mainnet-like target: no share here is a block, as in real life.
    target: '00000000000000000002f1280000000000000000000000000000000000000000', mintime: now - 600, curtime: now, bits: '1702f128', height: 900_000 };
  const job = buildJob(template, { id: 'b', payoutScript: addressToScript('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', 'main').script, coinbaseTag: '/solominer/', extranonceSize: 8, cleanJobs: true });
  const prepared = prepareJob(job, 4);
  const en1 = Buffer.from('01020304', 'hex');
  const ntime = now.toString(16);
  const n = 200_000;
  let t = performance.now();
  for (let i = 0; i < n; i++) checkShare(prepared, en1, { extranonce2: (i >>> 0).toString(16).padStart(8, '0'), ntime, nonce: '00000000' }, 0x1fffe000, now);
  const checkOnly = n / ((performance.now() - t) / 1000);

  const book = new JobBook(4, 'op');
  book.setJob(job, true);
  const sj = book.jobFor('op', job.payoutScript);
  const host = {
    now: Date.now, extranonce1: en1, extranonce2Size: 4, vardiff: { targetSeconds: 10, minDifficulty: 0.00001, startDifficulty: 1e-12 },
    networkDifficulty: () => 1e14, authorize: () => ({ ok: true, worker: { name: 'w', worker: 'w', address: 'a', payoutKey: 'op', payoutScript: job.payoutScript, ownAddress: false } }),
    currentJob: () => sj, findJob: (id) => book.find(id), shareAccepted: () => {}, shareRejected: () => {}, ready: () => {},
  };
  const conn = new Connection(host, () => {});
  conn.handleLine('{"id":1,"method":"mining.subscribe","params":[]}');
  conn.handleLine('{"id":2,"method":"mining.authorize","params":["w","x"]}');
  conn.sendJob(sj, sj.notifyLine);
  const lines = Array.from({ length: n }, (_, i) => `{"id":${i + 3},"method":"mining.submit","params":["w","${sj.id}","${(i >>> 0).toString(16).padStart(8, '0')}","${ntime}","0000abcd"]}`);
  t = performance.now();
  for (const line of lines) conn.handleLine(line);
  const fullPath = n / ((performance.now() - t) / 1000);
  results.sharesPerSecond = { merkleBranch: job.merkleBranch.length, checkOnly: Math.round(checkOnly), submitLine: Math.round(fullPath) };
  say(`shares validated on one core (a ${job.merkleBranch.length}-level branch): ${Math.round(fullPath)}/s for a whole mining.submit line, ${Math.round(checkOnly)}/s for the check alone`);
}
// --- 4: through a pool against directly -----------------------------------------------------
{
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
