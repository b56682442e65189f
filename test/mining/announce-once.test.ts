// Every transition of a found block announced once, restarts included (real regtest node, real
// HTTP webhook). A run finds a block and exits right after the node accepted it (--max-blocks 1);
// while it is down the block is orphaned (invalidateblock, a longer rival chain); the next run
// announces the orphaning — what a journal written before could not tell it to skip. A run killed
// between journaling a move and announcing it is stood for by removing the `notified` line (the
// state such a kill leaves): the next start says it, once; the one after says nothing again.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { CpuEngine } from '../../src/engines/cpu-engine.js';
import { nextEvent } from '../support/events.js';
import { WithheldEngine } from '../support/gated-engine.js';
import { mineConfig, runMiner, scratchDir } from '../support/mining.js';
import { mineTo, regtestSuite } from '../support/regtest.js';
import { webhook, type Received, type Webhook } from '../support/webhook.js';

describe('every transition announced once, across restarts (regtest)', { timeout: 180_000 }, () => {
  const suite = regtestSuite(2);
  const hooks: Webhook[] = [];
  after(async () => {
    await Promise.all(hooks.map((h) => h.close()));
  });

  it('a block orphaned while the miner was stopped is announced at the next start, once; a lost announcement is made up for once', async () => {
    const { node } = suite;
    const [address, rival] = suite.addresses as [string, string];
    const hook = await webhook();
    hooks.push(hook);
    const dir = await scratchDir();
    const journal = join(dir, 'found-blocks.jsonl');
    const of = (event: string, from = 0) => hook.received.slice(from).filter((r) => r.body.event === event);

    // 1. Found, accepted, and the miner exits at once.
    const first = await runMiner(await mineConfig(node, address, dir, ['--max-blocks', '1', '--threads', '1', '--notify', hook.url]));
    assert.equal(first.stats.accepted, 1, first.lines.join('\n'));
    const ours = of('accepted')[0]!.body.block!.hash;
    assert.deepEqual([of('found').length, of('accepted').length], [1, 1]);

    // 2. While it is down, the block leaves the chain.
    await node.rpc.call('invalidateblock', ours);
    await mineTo(node, rival, 2);

    /** A run that mines nothing and stops once `done` resolves (or its start-up check is over). */
    const quietRun = async (done?: (h: Webhook) => Promise<unknown>) => {
      const stop = new AbortController();
      const engine = new WithheldEngine(new CpuEngine({ backend: 'scalar', threads: 1 }));
      return runMiner(await mineConfig(node, address, dir, ['--notify', hook.url]), {
        engines: [engine],
        signal: stop.signal,
        onStarted: ({ tracker }) => {
          void (async () => {
            try {
              if (done) await done(hook);
              await tracker.idle();
            } finally {
              stop.abort();
            }
          })();
        },
      });
    };

    // 3. The next run finds it orphaned at start-up: announced.
    let mark = hook.received.length;
    await quietRun((h) => nextEvent<[Received]>(h.events, 'notification', (r) => r.body.event === 'orphaned', 60_000));
    assert.deepEqual(of('orphaned', mark).map((r) => r.body.block!.hash), [ours]);
    assert.deepEqual([of('found', mark).length, of('accepted', mark).length], [0, 0], 'nothing said twice');

    // 4. A run killed between journaling the move and announcing it leaves no `notified` line for it.
    const lines = (await readFile(journal, 'utf8')).split('\n');
    const notified = lines.findIndex((l) => l.includes('"type":"notified"') && l.includes('"event":"orphaned"'));
    assert.ok(notified >= 0, 'the announcement was journaled');
    lines.splice(notified, 1);
    await writeFile(journal, lines.join('\n'));
    mark = hook.received.length;
    await quietRun((h) => nextEvent<[Received]>(h.events, 'notification', (r) => r.body.event === 'orphaned', 60_000));
    assert.deepEqual(of('orphaned', mark).map((r) => r.body.block!.hash), [ours], 'made up for, once');

    // 5. Nothing is left to say.
    mark = hook.received.length;
    await quietRun();
    assert.deepEqual(hook.received.slice(mark).map((r) => r.body.event), []);
  });
});
