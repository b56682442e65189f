#!/usr/bin/env node
// Several-node benchmarks against real regtest nodes (issue "Never lose a block to a node"):
//  1. failover: kill -9 of the node templates come from → every engine hashing a job from the
//     next node (the miner's 'job' event with reason "failover"), repeated; the killed node is
//     restarted and takes over again between runs;
//  2. solved → accepted by every node, with 1, 2 and 3 nodes: a candidate reaching the orchestrator
//     → the last node's answer "accepted" (journal fsync, submitblock to each, the active-chain
//     check), sustained regtest mining;
//  3. the block tracker's checks per block with 3 nodes: a start-up check of every followed block
//     (one getblockheader each on the node followed), the check at a tip that extends the last one
//     (a header per tip, not per block), and a reconnection's look for forgotten blocks on each node.
//
//   node scripts/bench-nodes.mjs [--seconds s] [--failovers n] [--json]
import { createECDH } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { p2wpkh, TEST_NETWORK } from '@scure/btc-signer';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, failovers: { type: 'string', default: '10' }, json: { type: 'boolean', default: false } },
});
const seconds = Number(values.seconds);
const failovers = Number(values.failovers);

const { LocalNode } = await import('../dist/src/devnode/local-node.js');
const { loadMineConfig } = await import('../dist/src/config/load-config.js');
const { runMineService } = await import('../dist/src/miner/service.js');
const { percentile } = await import('../dist/src/telemetry/run-tally.js');
const { BlockTracker } = await import('../dist/src/submit/block-tracker.js');
const { BlockRestorer } = await import('../dist/src/submit/block-restorer.js');
const { BlockSubmitter } = await import('../dist/src/submit/block-submitter.js');
const { FoundBlockJournal } = await import('../dist/src/submit/found-block-journal.js');
const { blockHeader, blockHashAt } = await import('../dist/src/node/node-checks.js');

const quiet = process.env.SOLOMINER_BENCH_LOG ? (level, msg) => console.error(`[miner] ${level} ${msg}`) : () => {};
const say = values.json ? quiet : (line) => console.log(line);
const stat = (xs) => ({ n: xs.length, p50: percentile(xs, 0.5), p99: percentile(xs, 0.99), max: xs.length ? Math.max(...xs) : NaN });
const fmt = (s) => `p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms (n=${s.n})`;
const NODE_TIMING = { probeIntervalMs: 500, probeTimeoutMs: 2000 };

function regtestAddress() {
  const ecdh = createECDH('secp256k1');
  ecdh.generateKeys();
  return p2wpkh(Uint8Array.from(ecdh.getPublicKey(undefined, 'compressed')), { ...TEST_NETWORK, bech32: 'bcrt' }).address;
}

/** The mine configuration for `nodes` (the first is --rpc-url, the others --node entries). */
function configFor(nodes, work, extra = []) {
  const [first, ...others] = nodes;
  return loadMineConfig({
    argv: [
      '--network', 'regtest', '--rpc-url', first.rpcUrl, '--rpc-cookie', first.cookiePath, '--zmq', first.zmqEndpoint,
      ...others.flatMap((n) => ['--node', `${n.rpcUrl},zmq=${n.zmqEndpoint},cookie=${n.cookiePath}`]),
      '--address', regtestAddress(), '--journal', join(work, 'journal.jsonl'), '--report-dir', join(work, 'reports'), '--threads', '1', ...extra,
    ],
    env: {},
    cwd: work,
  });
}

const results = {};
const started = [];
const start = async () => {
  const n = await LocalNode.start({ network: 'regtest' });
  started.push(n);
  return n;
};

try {
  // 1. Failover.
  {
    say(`failover: kill -9 of the template node → engines hashing the next node's job, ${failovers} times ...`);
    const work = await mkdtemp(join(tmpdir(), 'solominer-bench-nodes-'));
    const [a, b] = await Promise.all([start(), start()]);
    const config = await configFor([a, b], work);
    const samples = [];
    const stop = new AbortController();
    await runMineService({
      config,
      log: quiet,
      signal: stop.signal,
      nodeTiming: NODE_TIMING,
      onStarted: ({ miner, nodes, source }) => {
        void (async () => {
          try {
            const nodeOf = (link) => (link === nodes.links[0] ? a : b);
            for (let i = 0; i < failovers; i++) {
              // The node templates come from now is killed; the other takes over.
              while (nodes.current() === undefined) await new Promise((r) => setTimeout(r, 50));
              const victim = nodeOf(nodes.current());
              // Done at the first new job built from a template of the other node (its reason
              // is "failover", or "zmq" when the other node's own notice came first).
              let fromNext = false;
              const onTemplate = (u) => {
                if (u.node !== victim.rpcUrl) fromNext = true;
              };
              source.on('template', onTemplate);
              const switched = new Promise((resolve) => {
                const on = () => {
                  if (!fromNext) return;
                  miner.off('job', on);
                  source.off('template', onTemplate);
                  resolve(performance.now());
                };
                miner.on('job', on);
              });
              const killedAt = performance.now();
              await victim.kill();
              samples.push((await switched) - killedAt);
              // Held while the victim comes back and is given what it forgot (on regtest, blocks
              // found meanwhile would make that a chase).
              miner.hold(true);
              await victim.restart();
              while (!nodes.links.every((l) => l.usable)) await new Promise((r) => setTimeout(r, 50));
              miner.hold(false);
            }
          } finally {
            stop.abort();
          }
        })();
      },
    });
    results.failoverMs = stat(samples);
    say(`  ${fmt(results.failoverMs)}`);
    await rm(work, { recursive: true, force: true });
  }

  // 2. Solved → accepted by every node, 1, 2 and 3 nodes (fresh nodes each time: one chain).
  results.acceptedByAll = {};
  for (const k of [1, 2, 3]) {
    say(`solved → accepted by all of ${k} node(s), ${seconds} s of regtest mining ...`);
    const work = await mkdtemp(join(tmpdir(), 'solominer-bench-nodes-'));
    const three = await Promise.all(Array.from({ length: k }, () => start()));
    const config = await configFor(three, work, ['--duration', String(seconds)]);
    const summary = await runMineService({ config, log: quiet, nodeTiming: NODE_TIMING });
    results.acceptedByAll[k] = { ...stat(summary.stats.acceptedByAllMs), solvedToSubmitMs: stat(summary.stats.submitMs), blocksPerSecond: (summary.stats.outcomes.accepted ?? 0) / summary.seconds };
    say(`  ${fmt(results.acceptedByAll[k])}; solved → first submitblock sent ${fmt(results.acceptedByAll[k].solvedToSubmitMs)}; ${results.acceptedByAll[k].blocksPerSecond.toFixed(1)} blocks/s`);
    // 3. The tracker's checks, on the journal of the 3-node run.
    if (k === 3) {
      const journal = await FoundBlockJournal.open(join(work, 'journal.jsonl'));
      const { records } = await journal.scan();
      const followed = three[0];
      const tip = { hash: await followed.rpc.call('getbestblockhash'), height: await followed.rpc.call('getblockcount') };
      let calls = 0;
      const counted = (fn) => (...args) => {
        calls++;
        return fn(...args);
      };
      const tracker = new BlockTracker({
        journal: { append: async () => undefined },
        header: counted((h) => blockHeader(followed.rpc, h)),
        hashAt: counted((h) => blockHashAt(followed.rpc, h)),
        log: quiet,
        network: 'regtest',
        readOnly: true,
      }).load(records);
      const followedBlocks = tracker.blocks().filter((b) => b.status !== 'mature').length;
      let began = performance.now();
      await tracker.checkAll(tip);
      const fullMs = performance.now() - began;
      const fullCalls = calls;
      // A tip on top of the last: one header read, whatever the number of blocks followed.
      const next = (await followed.rpc.call('generatetoaddress', 1, regtestAddress()))[0];
      calls = 0;
      began = performance.now();
      await tracker.onTip({ hash: next, height: tip.height + 1 });
      const tipMs = performance.now() - began;
      const tipCalls = calls;
      // A reconnection's look for forgotten blocks, on each of the 3 nodes (they forgot none).
      const submitter = new BlockSubmitter({ journal, targets: [], log: quiet });
      const restorer = new BlockRestorer({ journal, submitter, network: 'regtest', log: quiet });
      const perNode = [];
      let asked = 0;
      for (const n of three) {
        began = performance.now();
        const summary = await restorer.restore({ name: n.rpcUrl, submitBlock: async () => null, blockInActiveChain: async () => true, header: (h) => blockHeader(n.rpc, h) }, 'benchmark');
        perNode.push(performance.now() - began);
        asked = summary.checked;
      }
      await journal.close();
      results.trackerChecks3Nodes = {
        blocksFollowed: followedBlocks,
        startupCheckMsPerBlock: fullMs / Math.max(1, followedBlocks),
        startupCheckCallsPerBlock: fullCalls / Math.max(1, followedBlocks),
        nextTipMs: tipMs,
        nextTipCalls: tipCalls,
        reconnectLookMsPerBlockPerNode: perNode.reduce((x, y) => x + y, 0) / 3 / Math.max(1, asked),
        blocksAskedAtReconnect: asked,
      };
      const t = results.trackerChecks3Nodes;
      say(`tracker checks with 3 nodes (${t.blocksFollowed} blocks followed): start-up check ${t.startupCheckMsPerBlock.toFixed(3)} ms and ${t.startupCheckCallsPerBlock.toFixed(2)} RPC calls per block; a tip on the last one ${t.nextTipMs.toFixed(2)} ms, ${t.nextTipCalls} call(s) in all; a reconnection's look ${t.reconnectLookMsPerBlockPerNode.toFixed(3)} ms per block per node (${t.blocksAskedAtReconnect} blocks asked)`);
    }
    await rm(work, { recursive: true, force: true });
  }
} finally {
  await Promise.all(started.map((n) => n.stop()));
}
if (values.json) console.log(JSON.stringify(results));
