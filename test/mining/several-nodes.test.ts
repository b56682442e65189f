// Mining from several real nodes at once (regtest; the nodes are not peers, so what reaches both
// reached them through the miner): every block goes to both, each answer journaled; the node
// templates come from dies (kill -9) or stalls (a proxy that stops answering) and the other
// takes over within seconds; the first is back: it gets what it forgot and what it missed, and
// takes over again; two nodes that disagree on the tip are said so, and a block one refuses and
// the other accepts is reported as such.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { CpuEngine } from '../../src/engines/cpu-engine.js';
import type { Miner } from '../../src/miner/miner.js';
import type { NodeSet } from '../../src/node/nodes.js';
import type { TemplateSource } from '../../src/node/template-source.js';
import type { Recorder } from '../../src/telemetry/recorder.js';
import type { RunTally } from '../../src/telemetry/run-tally.js';
import { foldJournal } from '../../src/submit/block-tracker.js';
import { summarizeReports } from '../../src/telemetry/report-summary.js';
import { readJournal, type JournalRecord } from '../../src/submit/found-block-journal.js';
import { until } from '../support/events.js';
import { GatedEngine } from '../support/gated-engine.js';
import { collectingLogger, mineConfig, runMiner, scratchDir } from '../support/mining.js';
import { TcpProxy } from '../support/node-proxy.js';
import { createWallet, mineTo, newAddress, startRegtest, type LocalNode } from '../support/regtest.js';

const NODE_TIMING = { probeIntervalMs: 250, probeTimeoutMs: 1000, disagreeMs: 500 } as const;

/** The --node entry of a LocalNode (its own cookie and ZMQ). */
function nodeEntry(node: LocalNode, url = node.rpcUrl): string {
  return `${url},zmq=${node.zmqEndpoint!},cookie=${node.cookiePath}`;
}

interface Live {
  stats: RunTally;
  miner: Miner;
  nodes: NodeSet;
  source: TemplateSource;
  recorder: Recorder;
}

async function records(dir: string): Promise<JournalRecord[]> {
  return (await readJournal(join(dir, 'found-blocks.jsonl')))!.records;
}

/** Every block the journal holds as accepted or confirmed is in the active chain of every node given. */
async function onEveryChain(nodes: readonly LocalNode[], journal: readonly JournalRecord[]): Promise<number> {
  const held = foldJournal(journal).blocks.filter((b) => b.status === 'accepted' || b.status === 'confirmed');
  for (const node of nodes) {
    for (const b of held) {
      const h = await node.rpc.call<{ confirmations: number }>('getblockheader', b.hash).catch(() => null);
      assert.ok(h !== null && h.confirmations >= 1, `block ${b.height} is in the active chain of ${node.rpcUrl}`);
    }
  }
  return held.length;
}

describe('several nodes (regtest)', { timeout: 300_000 }, () => {
  const started: LocalNode[] = [];
  const closers: Array<() => Promise<void>> = [];
  after(async () => {
    await Promise.all(closers.map((c) => c()));
    await Promise.all(started.map((n) => n.stop()));
  });

  it('every block reaches both; killing either one stops mining for seconds at most; back, it gets what it forgot and missed', async (t) => {
    const [a, b] = await Promise.all([startRegtest(), startRegtest()]);
    started.push(a!, b!);
    const address = await newAddress(a!, await createWallet(a!, 'w'), 'bech32');
    const dir = await scratchDir();
    const config = await mineConfig(a!, address, dir, ['--threads', '1', '--node', nodeEntry(b!)]);
    const { lines, log } = collectingLogger();
    const stop = new AbortController();
    const figures: string[] = [];
    let statusNodes: unknown;
    await runMiner(config, {
      signal: stop.signal,
      log,
      nodeTiming: NODE_TIMING,
      onStarted: (live: Live) => {
        void (async () => {
          try {
            const { stats, source } = live;
            const fromNode = (url: string, since: number) => new Promise<number>((resolve) => {
              const on = (u: { node?: string }) => {
                if (u.node === url) {
                  source.off('template', on);
                  resolve(performance.now() - since);
                }
              };
              source.on('template', on);
            });
            await until(() => stats.accepted >= 10, 30_000, '10 blocks');
            statusNodes = live.recorder.status().nodes;
            // The template node dies.
            let killedAt = performance.now();
            const toB = fromNode(b!.rpcUrl, killedAt);
            await a!.kill();
            figures.push(`templates from node 2 ${(await toB).toFixed(0)} ms after node 1 was killed`);
            const atKill = stats.accepted;
            await until(() => stats.accepted >= atKill + 10, 30_000, '10 blocks from node 2 alone');
            // It comes back, having forgotten blocks and missed others: once it holds them all,
            // templates from it again. (Hashing is held meanwhile: on regtest a block a
            // millisecond would keep it a few blocks behind for as long as the chase lasts.)
            const toA = fromNode(a!.rpcUrl, performance.now());
            const mark = lines.length;
            live.miner.hold(true);
            await a!.restart();
            await until(() => lines.slice(mark).some((l) => /templates now from node 1/.test(l)), 30_000, 'node 1 back to work');
            await toA;
            live.miner.hold(false);
            const back = stats.accepted;
            await until(() => stats.accepted >= back + 10, 30_000, '10 more blocks');
            // The other one dies: mining goes on from node 1.
            killedAt = performance.now();
            await b!.kill();
            const atKill2 = stats.accepted;
            await until(() => stats.accepted >= atKill2 + 10, 30_000, '10 blocks while node 2 is down');
            figures.push(`10 blocks ${((performance.now() - killedAt) / 1000).toFixed(2)} s after node 2 was killed`);
            await b!.restart();
            await until(() => live.nodes.links[1]!.usable, 30_000, 'node 2 back');
            const last = stats.accepted;
            await until(() => stats.accepted >= last + 5, 30_000, '5 more blocks');
          } finally {
            stop.abort();
          }
        })();
      },
    });
    const text = lines.join('\n');
    const journal = await records(dir);
    const held = await onEveryChain([a!, b!], journal);
    // Each block found went to both nodes: an answer from each.
    const found = journal.flatMap((r) => (r.type === 'found' ? [r.hash] : []));
    const answeredBy = (node: string) => new Set(journal.flatMap((r) => (r.type === 'answer' && r.node === node ? [r.hash] : [])));
    for (const node of [a!.rpcUrl, b!.rpcUrl]) {
      const got = answeredBy(node);
      const missing = found.filter((h) => !got.has(h));
      assert.deepEqual(missing, [], `${node} answered every block (submitted, or handed back on its return)`);
    }
    assert.match(text, /node 1 \(.*\) is unreachable: .*; templates from node 2/);
    assert.match(text, /had forgotten \d+ of our blocks/);
    assert.deepEqual((statusNodes as Array<{ name: string; state: string; templateSource: boolean }>).map((n) => [n.name, n.state, n.templateSource]), [
      [a!.rpcUrl, 'ok', true],
      [b!.rpcUrl, 'ok', false],
    ]);
    assert.equal(await a!.rpc.call<string>('getbestblockhash'), await b!.rpc.call<string>('getbestblockhash'));
    // The hour's report, and `report`, name each node: its templates, answers and outages.
    const summary = await summarizeReports(join(dir, 'reports'));
    const [n1, n2] = [a!.rpcUrl, b!.rpcUrl].map((u) => summary.nodes.find((n) => n.node === u));
    assert.ok(n1 && n2, JSON.stringify(summary.nodes));
    assert.ok(n1.templates > 0 && n2.templates > 0, 'both served templates');
    assert.ok(n1.faults >= 1 && n2.faults >= 1, 'both went out of use once');
    assert.ok((n2.answers.accepted ?? 0) > 0);
    t.diagnostic(`${figures.join('; ')}; ${held} journaled blocks on both chains`);
  });

  it('the template node stalls (RPC answers nothing): the other takes over within seconds; it answers again: back to it', async (t) => {
    const [a, b] = await Promise.all([startRegtest(), startRegtest()]);
    started.push(a!, b!);
    const proxy = await TcpProxy.start(a!.rpcPort);
    closers.push(() => proxy.close());
    const address = await newAddress(b!, await createWallet(b!, 'w'), 'bech32');
    const dir = await scratchDir();
    const config = await mineConfig(a!, address, dir, ['--threads', '1', '--rpc-url', proxy.url, '--node', nodeEntry(b!)]);
    const { lines, log } = collectingLogger();
    const stop = new AbortController();
    let tookOverMs = -1;
    await runMiner(config, {
      signal: stop.signal,
      log,
      nodeTiming: NODE_TIMING,
      onStarted: ({ stats, miner }: Live) => {
        void (async () => {
          try {
            await until(() => stats.accepted >= 5, 30_000, '5 blocks');
            const stalledAt = performance.now();
            const mark = lines.length;
            proxy.stall();
            await until(() => lines.slice(mark).some((l) => /templates now from node 2/.test(l)), 20_000, 'node 2 to take over');
            tookOverMs = performance.now() - stalledAt;
            const during = stats.accepted;
            await until(() => stats.accepted >= during + 5, 30_000, '5 blocks from node 2');
            // It answers again; once it holds every block of ours (hashing held meanwhile, as
            // above), templates come from it again.
            const mark2 = lines.length;
            miner.hold(true);
            proxy.resume();
            await until(() => lines.slice(mark2).some((l) => /templates now from node 1/.test(l)), 30_000, 'node 1 back to work');
            miner.hold(false);
            const back = stats.accepted;
            await until(() => stats.accepted >= back + 5, 30_000, '5 blocks from node 1 again');
          } finally {
            stop.abort();
          }
        })();
      },
    });
    const text = lines.join('\n');
    assert.ok(tookOverMs > 0, text);
    assert.match(text, /node 1 \(.*\) is unreachable: .*gave no answer within 1 s \(stalled\); templates from node 2/);
    await onEveryChain([a!, b!], await records(dir));
    t.diagnostic(`node 2 took over ${tookOverMs.toFixed(0)} ms after node 1 stalled (probe limit 1 s)`);
  });

  it('two nodes disagree on the tip: said once; a block one refuses and the other accepts is reported; both end on our chain', async () => {
    const [a, b] = await Promise.all([startRegtest(), startRegtest()]);
    started.push(a!, b!);
    const wallet = await createWallet(a!, 'w');
    const address = await newAddress(a!, wallet, 'bech32');
    const rival = await newAddress(a!, wallet, 'bech32');
    const dir = await scratchDir();
    const config = await mineConfig(a!, address, dir, ['--node', nodeEntry(b!)]);
    const engine = new GatedEngine(new CpuEngine({ backend: 'scalar', threads: 1 }));
    const { lines, log } = collectingLogger();
    const stop = new AbortController();
    const ours: string[] = [];
    let rivalHash = '';
    let refused = '';
    await runMiner(config, {
      engines: [engine],
      signal: stop.signal,
      log,
      nodeTiming: NODE_TIMING,
      onStarted: ({ stats, miner }) => {
        miner.on('block', (f) => ours.push(f.block.hash));
        void (async () => {
          try {
            engine.pass(3);
            await until(() => stats.accepted >= 3, 30_000, '3 blocks');
            // Another miner's block reaches node 2 only: the nodes now disagree on the tip.
            rivalHash = (await mineTo(b!, rival, 1))[0]!;
            await until(() => lines.some((l) => /the nodes disagree on the tip/.test(l)), 20_000, 'the disagreement said');
            // Our next block: node 1 takes it, node 2 holds the rival at that height; the one after
            // settles it (more work): node 2 reorgs onto ours.
            engine.pass(2);
            await until(() => stats.accepted >= 5, 30_000, '2 more blocks');
            await until(() => lines.some((l) => /agree on the tip again/.test(l)), 20_000, 'agreement said');
            // Node 2 refuses our tip: a block on it is refused by node 2 and accepted by node 1.
            refused = (await a!.rpc.call<string>('getbestblockhash'));
            await b!.rpc.call('invalidateblock', refused);
            engine.pass(1);
            await until(() => stats.accepted >= 6, 30_000, 'a block node 2 refuses');
            await b!.rpc.call('reconsiderblock', refused);
            await until(async () => (await b!.rpc.call<string>('getbestblockhash')) === (await a!.rpc.call<string>('getbestblockhash')), 20_000, 'node 2 back on our chain');
          } finally {
            stop.abort();
          }
        })();
      },
    });
    const text = lines.join('\n');
    const journal = await records(dir);
    // Said once while it lasted (a second disagreement, node 2 invalidating our tip, is said again).
    const agreed = lines.findIndex((l) => /agree on the tip again/.test(l));
    assert.equal(lines.slice(0, agreed).filter((l) => /the nodes disagree on the tip/.test(l)).length, 1, text);
    // The block mined while they disagreed: accepted by node 1, held aside by node 2.
    // The answers to the submission (a block handed back later has a second answer, marked so).
    const answers = (hash: string) => Object.fromEntries(journal.flatMap((r) => (r.type === 'answer' && r.hash === hash && r.handedBack !== true ? [[r.node, r.outcome]] : [])));
    assert.deepEqual(answers(ours[3]!), { [a!.rpcUrl]: 'accepted', [b!.rpcUrl]: 'inconclusive' });
    // The block on the tip node 2 invalidated: refused by it, accepted by node 1, and said so.
    assert.deepEqual(answers(ours[5]!), { [a!.rpcUrl]: 'accepted', [b!.rpcUrl]: 'rejected' });
    assert.match(text, new RegExp(`block \\d+: ${b!.rpcUrl.replace(/[.:/]/g, '\\$&')} rejected it \\(bad-prevblk\\) though ${a!.rpcUrl.replace(/[.:/]/g, '\\$&')} accepted it`));
    // Once node 2 took our tip back, the disagreement that followed handed it the block it had refused.
    assert.ok(journal.some((r) => r.type === 'answer' && r.hash === ours[5] && r.node === b!.rpcUrl && r.handedBack === true && r.outcome === 'accepted'), text);
    assert.equal((await b!.rpc.call<{ confirmations: number }>('getblockheader', rivalHash)).confirmations, -1, "the rival's block left node 2's chain");
    await onEveryChain([a!, b!], journal);
  });
});
