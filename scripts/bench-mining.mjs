#!/usr/bin/env node
// Mining-cycle benchmarks against a real regtest node (the figures):
//  1. sustained regtest mining: blocks per second with every block accepted — the whole
//     template → solve → journal → submit → next-work cycle (regtest's target is trivial);
//  2. solved-to-submitblock-sent latency (re-check, assembly and journal fsync included);
//  3. ZMQ-notification-to-new-work latency, beyond the getblocktemplate round trip itself,
//     for blocks mined by someone else (generatetoaddress) while the miner is held;
//  4. template-to-first-hash for a template of 3,000 transactions (synthetic transactions:
//     the code path is the miner's own, from the parsed template to the engine started).
//
//   node scripts/bench-mining.mjs [--seconds s] [--json]
import { createECDH, createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { p2wpkh, TEST_NETWORK } from '@scure/btc-signer';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '30' }, json: { type: 'boolean', default: false } } });
const seconds = Number(values.seconds);

const { LocalNode } = await import('../dist/src/devnode/local-node.js');
const { loadMineConfig } = await import('../dist/src/config/load-config.js');
const { runMineService } = await import('../dist/src/miner/service.js');
const { Miner } = await import('../dist/src/miner/miner.js');
const { CpuEngine } = await import('../dist/src/engines/cpu-engine.js');
const { parseBlockTemplate } = await import('../dist/src/node/block-template.js');
const { addressToScript } = await import('../dist/src/bitcoin/address.js');
const { percentile } = await import('../dist/src/telemetry/run-tally.js');

const quiet = () => {};
const say = values.json ? quiet : (line) => console.log(line);

function regtestAddress() {
  const ecdh = createECDH('secp256k1');
  ecdh.generateKeys();
  return p2wpkh(Uint8Array.from(ecdh.getPublicKey(undefined, 'compressed')), { ...TEST_NETWORK, bech32: 'bcrt' }).address;
}

const stat = (xs) => ({ n: xs.length, p50: percentile(xs, 0.5), p99: percentile(xs, 0.99), max: xs.length ? Math.max(...xs) : NaN });
const fmt = (s) => `p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms (n=${s.n})`;

const work = await mkdtemp(join(tmpdir(), 'solominer-bench-'));
const node = await LocalNode.start({ network: 'regtest' });
const results = {};
try {
  const address = regtestAddress();
  const config = await loadMineConfig({
    argv: ['--network', 'regtest', '--rpc-url', node.rpcUrl, '--rpc-cookie', node.cookiePath, '--zmq', node.zmqEndpoint,
      '--address', address, '--journal', join(work, 'journal.jsonl'), '--duration', String(seconds)],
    env: {},
    cwd: work,
  });

  // 1 + 2: sustained mining.
  say(`sustained regtest mining for ${seconds} s ...`);
  const zmqSwitch = [];
  const summary = await runMineService({
    config,
    log: quiet,
    onStarted: ({ miner }) => miner.on('job', (s) => s.reason === 'zmq' && zmqSwitch.push(s.overheadMs)),
  });
  const accepted = summary.stats.outcomes.accepted ?? 0;
  results.sustained = {
    seconds: summary.seconds,
    blocksPerSecond: accepted / summary.seconds,
    outcomes: summary.stats.outcomes,
    solvedToSubmitMs: stat(summary.stats.submitMs),
    zmqSwitchOverheadMs: stat(zmqSwitch),
  };
  say(`  ${accepted} blocks accepted in ${summary.seconds.toFixed(1)} s: ${(accepted / summary.seconds).toFixed(1)} blocks/s; outcomes ${JSON.stringify(summary.stats.outcomes)}`);
  say(`  solved → submitblock sent (journal fsync included): ${fmt(results.sustained.solvedToSubmitMs)}`);

  // 3: ZMQ → new work for blocks mined by someone else, the miner held so it mines none itself.
  say('ZMQ notification → new work, 60 blocks by generatetoaddress ...');
  const other = regtestAddress();
  const overheads = [];
  const rpcs = [];
  const stop = new AbortController();
  await runMineService({
    config: { ...config, duration: undefined },
    log: quiet,
    signal: stop.signal,
    onStarted: ({ miner }) => {
      miner.hold(true);
      let pending;
      miner.on('job', (s) => {
        if (s.reason !== 'zmq' || !pending) return;
        overheads.push(s.overheadMs);
        rpcs.push(s.rpcMs);
        pending();
      });
      void (async () => {
        await new Promise((r) => setTimeout(r, 300));
        for (let i = 0; i < 60; i++) {
          const switched = new Promise((resolve) => (pending = resolve));
          await node.rpc.call('generatetoaddress', 1, other);
          await Promise.race([switched, new Promise((r) => setTimeout(r, 2000))]);
          pending = undefined;
        }
        stop.abort();
      })();
    },
  });
  results.zmqToNewWork = { overheadMs: stat(overheads), getblocktemplateMs: stat(rpcs) };
  say(`  beyond the getblocktemplate round trip: ${fmt(results.zmqToNewWork.overheadMs)}; the round trip itself ${fmt(results.zmqToNewWork.getblocktemplateMs)}`);

  // 4: template → first hash for 3,000 transactions.
  say('template of 3,000 transactions → engines hashing ...');
  const raw = await node.rpc.call('getblocktemplate', { rules: ['segwit'] });
  delete raw.default_witness_commitment; // the synthetic transactions change the commitment
  raw.transactions = Array.from({ length: 3000 }, () => {
    const data = randomBytes(250);
    const id = createHash('sha256').update(createHash('sha256').update(data).digest()).digest().reverse().toString('hex');
    return { data: data.toString('hex'), txid: id, hash: id, fee: 1000, weight: 1000, depends: [], sigops: 1 };
  });
  const samples = [];
  const parseMs = [];
  const engine = new CpuEngine({});
  for (let i = 0; i < 20; i++) {
    const miner = new Miner({ engines: [engine], payoutScript: addressToScript(address, 'regtest').script, onBlock: async () => {}, requestTemplate: () => {} });
    miner.hold(false);
    const began = performance.now();
    const template = parseBlockTemplate({ ...raw, previousblockhash: randomBytes(32).toString('hex') });
    parseMs.push(performance.now() - began);
    const switched = new Promise((resolve) => miner.once('job', resolve));
    await miner.onTemplate({ template, reason: 'refresh', requestedAt: began, rpcMs: 0 });
    const s = await switched;
    samples.push(s.latencyMs);
    await miner.stop();
  }
  await engine.close();
  results.templateToFirstHash = { transactions: 3000, ms: stat(samples), parseMs: stat(parseMs) };
  say(`  parse + job + merkle branch + engines started: ${fmt(results.templateToFirstHash.ms)} (of which parsing ${fmt(results.templateToFirstHash.parseMs)})`);
} finally {
  await node.stop();
  await rm(work, { recursive: true, force: true });
}
if (values.json) console.log(JSON.stringify(results));
