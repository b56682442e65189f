// The node's tip moving under the miner: another miner's block on a private signet (real
// proof of work), and the node restarting mid-run (new cookie, ZMQ gone and back).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import { addressToScript } from '../../src/bitcoin/address.js';
import { CpuEngine } from '../../src/engines/cpu-engine.js';
import { scanRange } from '../../src/engines/scan-range.js';
import type { WorkSwitch } from '../../src/miner/miner.js';
import { templateRequest } from '../../src/node/template-source.js';
import { assembleBlock, buildJob, jobTime, makeWorkUnit } from '../../src/work/job.js';
import { parseBlockTemplate } from '../../src/node/block-template.js';
import { GatedEngine } from '../support/gated-engine.js';
import { mineConfig, runMiner, scratchDir } from '../support/mining.js';
import { blockAt, createWallet, newAddress, paidTo, startPrivateSignet, startRegtest, type LocalNode } from '../support/regtest.js';

/** Someone else's block: built from the node's template and solved here, then submitted. */
async function competitorBlock(node: LocalNode, address: string): Promise<{ hash: string; answer: string | null }> {
  const template = parseBlockTemplate(await node.rpc.call('getblocktemplate', templateRequest('signet')));
  const job = buildJob(template, { id: 'rival', payoutScript: addressToScript(address, 'signet').script, extranonceSize: 8, cleanJobs: true });
  const engine = new CpuEngine({ threads: 2 });
  try {
    for (let extranonce = 1; ; extranonce++) {
      const unit = makeWorkUnit(job, new Uint8Array(8).fill(extranonce), jobTime(job));
      const r = await scanRange(engine, { id: 'rival', header: unit.header, target: job.targetBytes, start: 0, count: 2 ** 32, stopOnFound: true });
      if (r.found.length > 0) {
        const block = assembleBlock(unit, r.found[0]!.nonce);
        return { hash: block.hash, answer: await node.rpc.call<string | null>('submitblock', block.hex) };
      }
    }
  } finally {
    await engine.close();
  }
}

describe('the tip moves under the miner', { timeout: 300_000 }, () => {
  const nodes: LocalNode[] = [];
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('private signet: several blocks of real proof of work to a tb1p address, all accepted', async () => {
    const node = await startPrivateSignet();
    nodes.push(node);
    const wallet = await createWallet(node, 'w');
    const address = await newAddress(node, wallet, 'bech32m');
    assert.match(address, /^tb1p/);
    const summary = await runMiner(await mineConfig(node, address, await scratchDir(), ['--max-blocks', '3']));
    assert.equal(summary.stats.accepted, 3, summary.lines.join('\n'));
    assert.deepEqual(summary.stats.outcomes, { accepted: 3 });
    for (const height of [1, 2, 3]) {
      const block = await blockAt(node, height);
      assert.equal(paidTo(block).find((p) => p.value > 0)!.address, address);
      // Real work: the hash meets signet's target of difficulty ~0.001, not a trivial one.
      assert.match(block.hash, /^00000/);
    }
  });

  it("another miner's block mid-run: the miner switches to the new tip and submits nothing stale", async () => {
    const node = nodes[0]!;
    const wallet = await createWallet(node, 'w2');
    const address = await newAddress(node, wallet, 'bech32m');
    const rival = await newAddress(node, wallet, 'bech32');
    // The miner hashes for real, but what its engine finds is held back until the rival's
    // block is the tip: otherwise it could win the race and the switch would not be tested.
    const engine = new GatedEngine(new CpuEngine({ backend: 'scalar', threads: 1 }));
    const rivalBlocks: string[] = [];
    const switches: WorkSwitch[] = [];
    let firstJob: () => void = () => {};
    const hashing = new Promise<void>((resolve) => (firstJob = resolve));
    const rivalry = (async () => {
      // Once the miner hashes its first job, mine a rival block on the same tip.
      await hashing;
      const { hash, answer } = await competitorBlock(node, rival);
      assert.equal(answer, null, `the rival's block is accepted: ${answer}`);
      rivalBlocks.push(hash);
    })();
    rivalry.catch(() => undefined).finally(() => engine.open());
    const summary = await runMiner(await mineConfig(node, address, await scratchDir(), ['--max-blocks', '1']), {
      engines: [engine],
      onStarted: ({ miner }) => {
        miner.on('job', (s) => {
          switches.push(s);
          firstJob();
        });
      },
    });
    await rivalry;
    assert.equal(rivalBlocks.length, 1, 'a rival block became the tip');
    const toRival = switches.find((s) => s.job.previousBlockHash === rivalBlocks[0]);
    assert.ok(toRival, `the miner moved onto the rival's block: ${JSON.stringify(switches.map((s) => [s.reason, s.job.previousBlockHash]))}`);
    assert.equal(toRival.reason, 'zmq');
    assert.equal(toRival.newTip, true);
    assert.deepEqual(summary.stats.outcomes, { accepted: 1 }, summary.lines.join('\n'));
    // The miner's block sits on top of the rival's.
    const tip = await node.rpc.call<string>('getbestblockhash');
    const header = await node.rpc.call<{ previousblockhash: string }>('getblockheader', tip);
    assert.equal(header.previousblockhash, rivalBlocks[0]);
  });

  it('the node restarted mid-run: the miner waits, re-reads the cookie, reconnects and goes on mining', async () => {
    const node = await startRegtest();
    nodes.push(node);
    const wallet = await createWallet(node, 'w');
    const address = await newAddress(node, wallet, 'bech32');
    const cookieBefore = await import('node:fs/promises').then((fs) => fs.readFile(node.cookiePath, 'utf8'));
    const stop = new AbortController();
    let restarting = false;
    // Blocks accepted once the restarted node answers again (the node keeps accepting blocks
    // for a moment after it is told to stop, so counting from the request would be too early).
    let acceptedAfterRestart = -1;
    const summary = await runMiner(await mineConfig(node, address, await scratchDir()), {
      signal: stop.signal,
      onStarted: ({ stats }) => {
        const watch = setInterval(() => {
          if (!restarting && stats.accepted >= 5) {
            restarting = true;
            void node.restart().then(() => {
              acceptedAfterRestart = stats.accepted;
            });
          } else if (acceptedAfterRestart >= 0 && stats.accepted >= acceptedAfterRestart + 5) {
            clearInterval(watch);
            stop.abort();
          }
        }, 10);
      },
    });
    const cookieAfter = await import('node:fs/promises').then((fs) => fs.readFile(node.cookiePath, 'utf8'));
    assert.notEqual(cookieAfter, cookieBefore, 'the restart wrote a new cookie');
    assert.ok(acceptedAfterRestart >= 5 && summary.stats.accepted >= acceptedAfterRestart + 5, summary.lines.join('\n'));
    assert.equal(summary.stats.outcomes.rejected, undefined, summary.lines.join('\n'));
    // Said by the template source (waiting for the node) or, when the node went away under a
    // submission, by the submitter retrying it.
    assert.ok(
      summary.lines.some((l) => /node unreachable, waiting|submitblock failed; retrying.*is unreachable/.test(l)),
      `it said it was waiting for the node:\n${summary.lines.filter((l) => !l.startsWith('info')).join('\n')}`,
    );
    const height = await node.rpc.call<number>('getblockcount');
    assert.ok(height >= 10);
    assert.equal(paidTo(await blockAt(node, height)).find((p) => p.value > 0)!.address, address, 'the newest block is the miner’s');
  });
});
