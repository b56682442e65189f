// Whether a found block left the machine (real regtest nodes): known to k of n configured nodes
// (journaled, in /status, in the accepted notification), sent to the node's peers (a second,
// unconfigured node peered with it), and an alarm — log, errors.jsonl, metric, notification, once
// — when it stays known to one node only, sent to no peer, past --propagation-alarm.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { CpuEngine } from '../../src/engines/cpu-engine.js';
import { readJournal, type PropagationRecord } from '../../src/submit/found-block-journal.js';
import { hourFolders } from '../../src/telemetry/hourly-report.js';
import { nextEvent, until } from '../support/events.js';
import { GatedEngine } from '../support/gated-engine.js';
import { collectingLogger, mineConfig, runMiner, scratchDir } from '../support/mining.js';
import { createWallet, newAddress, startRegtest, type LocalNode } from '../support/regtest.js';
import { webhook, type Received, type Webhook } from '../support/webhook.js';

async function propagation(dir: string): Promise<PropagationRecord[]> {
  const scan = await readJournal(join(dir, 'found-blocks.jsonl'));
  return (scan?.records ?? []).flatMap((r) => (r.type === 'propagation' ? [r] : []));
}

describe('propagation of found blocks (regtest)', { timeout: 180_000 }, () => {
  const nodes: LocalNode[] = [];
  const hooks: Webhook[] = [];
  after(async () => {
    await Promise.all(hooks.map((h) => h.close()));
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('one node with a peer: known to 1 of 1, sent to its peer; no alarm', async () => {
    const node = await startRegtest({ listen: true });
    const peer = await startRegtest();
    nodes.push(node, peer);
    await peer.connect(node);
    const address = await newAddress(node, await createWallet(node, 'w'), 'bech32');
    const dir = await scratchDir();
    const engine = new GatedEngine(new CpuEngine({ backend: 'scalar', threads: 1 }));
    const { lines, log } = collectingLogger();
    const stop = new AbortController();
    await runMiner(await mineConfig(node, address, dir, ['--propagation-alarm', '2']), {
      engines: [engine],
      log,
      signal: stop.signal,
      onStarted: ({ stats }) => {
        engine.pass(1);
        void (async () => {
          try {
            await until(() => stats.accepted >= 1, 30_000, 'the block');
            await until(async () => (await propagation(dir)).some((r) => r.peers !== null), 20_000, 'the peers counted');
            // Past the alarm time: nothing said.
            await new Promise((r) => setTimeout(r, 2500));
          } finally {
            stop.abort();
          }
        })();
      },
    });
    const records = await propagation(dir);
    const last = records.at(-1)!;
    assert.deepEqual([last.nodes, last.of], [[node.rpcUrl], 1]);
    assert.ok((last.peers ?? 0) >= 1, JSON.stringify(records));
    assert.equal(lines.filter((l) => /may not reach the network/.test(l)).length, 0, lines.join('\n'));
  });

  it('one node without peers: the block is isolated past --propagation-alarm, said once everywhere', async () => {
    const node = await startRegtest();
    nodes.push(node);
    const address = await newAddress(node, await createWallet(node, 'w'), 'bech32');
    const hook = await webhook();
    hooks.push(hook);
    const dir = await scratchDir();
    const engine = new GatedEngine(new CpuEngine({ backend: 'scalar', threads: 1 }));
    const { lines, log } = collectingLogger();
    const stop = new AbortController();
    let metric = '';
    await runMiner(await mineConfig(node, address, dir, ['--propagation-alarm', '1', '--notify', hook.url, '--metrics-port', '0']), {
      engines: [engine],
      log,
      signal: stop.signal,
      onStarted: ({ recorder }) => {
        engine.pass(1);
        void (async () => {
          try {
            await nextEvent<[Received]>(hook.events, 'notification', (r) => r.body.event === 'isolated', 30_000);
            metric = await (await fetch(`${recorder.metricsUrl}/metrics`)).text();
          } finally {
            stop.abort();
          }
        })();
      },
    });
    const isolated = hook.received.filter((r) => r.body.event === 'isolated');
    assert.equal(isolated.length, 1);
    assert.match(isolated[0]!.body.message, /is known to 1 of 1 node, 0 peers took it after 1 s: it may never reach the network/);
    assert.equal(lines.filter((l) => /may not reach the network/.test(l)).length, 1, lines.join('\n'));
    assert.match(metric, /solominer_blocks_total\{outcome="isolated"\} 1/);
    let errors = '';
    for (const [, folder] of await hourFolders(join(dir, 'reports'))) errors += await readFile(join(folder, 'errors.jsonl'), 'utf8').catch(() => '');
    assert.match(errors, /"kind":"block-isolated"/);
  });

  it('two configured nodes: known to 2 of 2 when accepted (journal, /status, the notification)', async () => {
    const [a, b] = await Promise.all([startRegtest(), startRegtest()]);
    nodes.push(a!, b!);
    const address = await newAddress(a!, await createWallet(a!, 'w'), 'bech32');
    const hook = await webhook();
    hooks.push(hook);
    const dir = await scratchDir();
    const engine = new GatedEngine(new CpuEngine({ backend: 'scalar', threads: 1 }));
    const stop = new AbortController();
    let knownTo: unknown;
    await runMiner(await mineConfig(a!, address, dir, ['--notify', hook.url, '--node', `${b!.rpcUrl},zmq=${b!.zmqEndpoint!},cookie=${b!.cookiePath}`]), {
      engines: [engine],
      signal: stop.signal,
      onStarted: ({ recorder }) => {
        engine.pass(1);
        void (async () => {
          try {
            const [accepted] = await nextEvent<[Received]>(hook.events, 'notification', (r) => r.body.event === 'accepted', 30_000);
            knownTo = accepted.body.block?.knownTo;
            assert.match(accepted.body.message, /Known to 2 of 2 nodes\./);
            const row = recorder.status().foundBlocks[0];
            assert.deepEqual([row?.knownTo?.nodes, row?.knownTo?.of], [2, 2]);
          } finally {
            stop.abort();
          }
        })();
      },
    });
    assert.deepEqual((knownTo as { nodes: number; of: number }) && [(knownTo as { nodes: number }).nodes, (knownTo as { of: number }).of], [2, 2]);
    const records = await propagation(dir);
    assert.deepEqual([...records.at(-1)!.nodes].sort(), [a!.rpcUrl, b!.rpcUrl].sort());
  });
});
