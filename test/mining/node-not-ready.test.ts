// A node that cannot hand out work yet, as real mainnet nodes cut off from the network are: at
// height 0 without peers (getblocktemplate: "not connected", -9), then with a peer but in initial
// block download (-10). The miner says so once, floods nothing, mines nothing, and stops cleanly.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { loadMineConfig } from '../../src/config/load-config.js';
import type { MinerStatus } from '../../src/telemetry/status-document.js';
import { until } from '../support/events.js';
import { collectingLogger, runMiner, scratchDir } from '../support/mining.js';
import { LocalNode } from '../support/regtest.js';

// BIP173's mainnet test vector: a valid mainnet address.
const MAINNET_ADDRESS = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4';

describe('a node not ready to hand out work (isolated mainnet nodes)', { timeout: 120_000 }, () => {
  const nodes: LocalNode[] = [];
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('no peers, then initial block download: one line, no flood, nothing mined; a stop is clean', async (t) => {
    const node = await LocalNode.start({ network: 'main', listen: true });
    nodes.push(node);
    const dir = await scratchDir();
    const config = await loadMineConfig({
      argv: ['--network', 'main', '--rpc-url', node.rpcUrl, '--rpc-cookie', node.cookiePath, '--zmq', node.zmqEndpoint!, '--address', MAINNET_ADDRESS,
        '--journal', join(dir, 'found-blocks.jsonl'), '--report-dir', join(dir, 'reports'), '--threads', '1'],
      env: {},
      cwd: dir,
    });
    const { lines, log } = collectingLogger();
    const stop = new AbortController();
    let status: MinerStatus | undefined;
    let reasons: string[] = [];
    let probes = 0;
    const summary = await runMiner(config, {
      log,
      signal: stop.signal,
      nodeTiming: { probeIntervalMs: 100, probeTimeoutMs: 2000 },
      onStarted: ({ nodes: set, recorder }) => {
        const link = set.links[0]!;
        const probe = link.probeSoon.bind(link);
        link.probeSoon = () => {
          probes++;
          return probe();
        };
        void (async () => {
          try {
            await until(() => link.health.state === 'not-ready', 20_000, 'the node said not ready');
            reasons.push(link.health.reason ?? '');
            // A peer: still nothing to mine on, now because it is in initial block download.
            const peer = await LocalNode.start({ network: 'main' });
            nodes.push(peer);
            await peer.connect(node);
            await until(() => /initial block download/.test(link.health.reason ?? ''), 20_000, 'initial block download said');
            reasons.push(link.health.reason ?? '');
            // Many probes later, still one line.
            const from = probes;
            await until(() => probes >= from + 20, 20_000, '20 more probes');
            status = recorder.status();
          } finally {
            stop.abort();
          }
        })();
      },
    });
    const text = lines.join('\n');
    assert.match(reasons[0]!, /no peers/);
    assert.match(reasons[1]!, /initial block download \(\d+\.\d+% verified, 0 of 0 blocks\)/);
    assert.equal(lines.filter((l) => /not ready/.test(l)).length, 1, text);
    assert.equal(lines.filter((l) => l.startsWith('error')).length, 0, text);
    assert.ok(lines.filter((l) => l.startsWith('warn')).length <= 2, text);
    assert.equal(status?.node.reachable, false);
    assert.equal(status?.nodes?.[0]?.state, 'not-ready');
    assert.match(status?.nodes?.[0]?.reason ?? '', /initial block download/);
    assert.equal(status?.job, null, 'no work was handed out');
    assert.equal(summary.stats.blocksFound, 0);
    assert.equal(Object.values(summary.stats.templates).reduce((a, b) => a + b, 0), 0, 'no template');
    assert.equal(summary.stopReason, 'signal');
    t.diagnostic(`${probes} probes; said: ${lines.filter((l) => /not ready/.test(l)).join(' | ')}`);
  });
});
