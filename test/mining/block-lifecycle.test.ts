// A found block followed to maturity on a real regtest node: solominer mines one block (the
// gated engine lets exactly one through), the block is invalidated and a longer rival chain mined
// → orphaned in `blocks --json`, the journal, the metrics and a notification received by an HTTP
// server here; the rival branch invalidated and ours reconsidered → back in the active chain;
// then 99 more blocks → mature. The time of each phase is reported as a test diagnostic.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { CpuEngine } from '../../src/engines/cpu-engine.js';
import type { BlockTracker, BlockTransition, Tip } from '../../src/submit/block-tracker.js';
import { readJournal } from '../../src/submit/found-block-journal.js';
import { hourFolders, readReport, reportFilesIn } from '../../src/telemetry/hourly-report.js';
import type { Recorder } from '../../src/telemetry/recorder.js';
import { runCli } from '../support/cli.js';
import { nextEvent, within } from '../support/events.js';
import { GatedEngine } from '../support/gated-engine.js';
import { mineConfig, runMiner, scratchDir } from '../support/mining.js';
import { mineTo, regtestSuite } from '../support/regtest.js';
import { webhook, type Received, type Webhook } from '../support/webhook.js';

/** The webhook receiver, its URL with credentials and a token (they must stay out of every log). */
async function notificationServer(): Promise<Webhook & { url: string }> {
  const hook = await webhook();
  return { ...hook, url: `${hook.url.replace('http://', 'http://hook-user:pw-secret@')}?token=tk-secret` };
}

interface BlocksJson {
  source: string;
  tip: { height: number } | null;
  blocks: Array<{ hash: string; status: string; confirmations: number | null; maturityHeight: number; blocksToMaturity: number | null; value: string; address: string }>;
  totals: { mature: { btc: string }; immature: { btc: string }; orphaned: { btc: string }; won: number; lost: number };
}

describe('a found block followed to maturity (regtest)', { timeout: 240_000 }, () => {
  const suite = regtestSuite(2);

  it('orphaned by a longer rival chain, back on reconsiderblock, mature after 100 confirmations: journal, blocks --json, metrics, notifications', async (t) => {
    const { node } = suite;
    const [address, rival] = suite.addresses as [string, string];
    const figures: string[] = [];
    const started0 = performance.now();
    const phase = (what: string, since: number) => figures.push(`${what}: ${((performance.now() - since) / 1000).toFixed(2)} s`);
    const hook = await notificationServer();
    const dir = await scratchDir();
    const journalPath = join(dir, 'found-blocks.jsonl');
    const config = await mineConfig(node, address, dir, ['--notify', hook.url, '--metrics-port', '0', '--refresh-interval', '1', '--threads', '1']);
    const engine = new GatedEngine(new CpuEngine({ backend: 'scalar', threads: 1 }));
    engine.pass(1); // one block, then nothing: the chain is moved by this test alone
    const stop = new AbortController();
    let live: { tracker: BlockTracker; recorder: Recorder } | undefined;
    let onLive: () => void = () => {};
    const liveReady = new Promise<void>((resolve) => (onLive = resolve));
    const accepted = nextEvent<[Received]>(hook.events, 'notification', (r) => r.body.event === 'accepted', 60_000);
    const run = runMiner(config, {
      engines: [engine],
      signal: stop.signal,
      onStarted: (l) => {
        live = l;
        onLive();
      },
    });
    try {
      await within('the miner to start', liveReady, 60_000);
      const { tracker, recorder } = live!;
      const transition = (to: string, timeoutMs = 60_000) => nextEvent<[BlockTransition]>(tracker, 'transition', (t) => t.to === to, timeoutMs);
      const checkedAt = (height: number) => nextEvent<[Tip]>(tracker, 'checked', (t) => t.height >= height, 60_000);
      const blocksJson = async (): Promise<BlocksJson> => {
        const r = await runCli(['blocks', '--journal', journalPath, '--network', 'regtest', '--rpc-url', node.rpcUrl, '--rpc-cookie', node.cookiePath, '--json']);
        assert.equal(r.code, 0, r.stderr);
        return JSON.parse(r.stdout) as BlocksJson;
      };
      const metric = async (line: RegExp): Promise<number | undefined> => {
        const text = await (await fetch(`${recorder.metricsUrl}/metrics`)).text();
        const m = text.split('\n').find((l) => line.test(l));
        return m === undefined ? undefined : Number(m.split(' ').at(-1));
      };

      // 1. Our block: found, then accepted.
      const [acc] = await accepted;
      const ours = acc.body.block!.hash;
      phase('block found and accepted', started0);
      assert.ok(hook.received.some((r) => r.body.event === 'found' && r.body.block?.hash === ours), 'a found notification came first');
      assert.equal(acc.headers.authorization, `Basic ${Buffer.from('hook-user:pw-secret').toString('base64')}`);
      assert.equal(acc.path, '/hook?token=tk-secret');
      assert.equal(acc.body.block!.value, '50.00000000');
      const height = (await node.rpc.call<{ height: number }>('getblockheader', ours)).height;

      // 2. invalidateblock on it and a longer rival chain → orphaned.
      let since = performance.now();
      const orphaned = transition('orphaned');
      const orphanNote = nextEvent<[Received]>(hook.events, 'notification', (r) => r.body.event === 'orphaned', 60_000);
      await node.rpc.call('invalidateblock', ours);
      const rivalBlocks = await mineTo(node, rival, 2);
      const [o] = await orphaned;
      phase('invalidateblock + 2 rival blocks → orphaned', since);
      assert.equal(o.block.hash, ours);
      assert.equal(o.block.confirmations, -1);
      const [note] = await orphanNote;
      assert.equal(note.body.block!.hash, ours);
      assert.match(note.body.message, /orphaned .*50\.00000000 BTC lost unless a reorg brings it back/);
      let view = await blocksJson();
      assert.equal(view.source, 'node');
      assert.deepEqual(view.blocks.map((b) => [b.hash, b.status, b.confirmations]), [[ours, 'orphaned', -1]]);
      assert.deepEqual([view.totals.orphaned.btc, view.totals.won, view.totals.lost], ['50.00000000', 0, 1]);
      assert.equal(await metric(/^solominer_blocks_total\{outcome="orphaned"\}/), 1);
      assert.equal(await metric(/^solominer_immature_value_btc /), 0);

      // 3. The rival branch invalidated, ours reconsidered → back in the active chain.
      since = performance.now();
      const restored = transition('confirmed');
      const restoredNote = nextEvent<[Received]>(hook.events, 'notification', (r) => r.body.event === 'restored', 60_000);
      await node.rpc.call('invalidateblock', rivalBlocks[0]);
      await node.rpc.call('reconsiderblock', ours);
      assert.equal(await node.rpc.call<string>('getbestblockhash'), ours);
      const [r] = await restored;
      phase('rival invalidated, ours reconsidered → confirmed', since);
      assert.equal(r.from, 'orphaned');
      assert.equal(r.block.confirmations, 1);
      await restoredNote;
      view = await blocksJson();
      assert.deepEqual(view.blocks.map((b) => [b.status, b.confirmations, b.blocksToMaturity]), [['confirmed', 1, 99]]);
      assert.equal(await metric(/^solominer_immature_value_btc /), 50);

      // 4. 98 blocks on top: 99 confirmations, still immature; one more: mature.
      since = performance.now();
      const deep = checkedAt(height + 98);
      await mineTo(node, rival, 98);
      await deep;
      assert.deepEqual(tracker.blocks().map((b) => [b.status, b.confirmations]), [['confirmed', 99]]);
      const matured = transition('mature');
      const maturedNote = nextEvent<[Received]>(hook.events, 'notification', (n) => n.body.event === 'matured', 60_000);
      await mineTo(node, rival, 1);
      const [m] = await matured;
      phase('99 generated blocks followed → mature', since);
      assert.equal(m.block.confirmations, 100);
      assert.equal(m.block.maturityHeight, height + 99);
      assert.match((await maturedNote)[0].body.message, /matured \(100 confirmations\): 50\.00000000 BTC can be spent now/);
      view = await blocksJson();
      assert.deepEqual(view.blocks.map((b) => [b.status, b.blocksToMaturity]), [['mature', 0]]);
      assert.deepEqual([view.totals.mature.btc, view.totals.immature.btc, view.totals.won, view.totals.lost], ['50.00000000', '0.00000000', 1, 0]);
      assert.equal(await metric(/^solominer_blocks_total\{outcome="matured"\}/), 1);
      assert.equal(await metric(/^solominer_immature_value_btc /), 0);
      const status = recorder.status();
      assert.equal(status.lastBlock?.hash, ours);
      assert.equal(status.lastBlock?.status, 'mature');

      // The journal holds every transition, in order.
      const statuses = (await readJournal(journalPath))!.records.flatMap((x) => (x.type === 'status' && x.hash === ours ? [x.status] : []));
      assert.deepEqual(statuses.slice(-3), ['orphaned', 'confirmed', 'mature'], statuses.join(' '));
    } finally {
      stop.abort();
      const summary = await run;
      await hook.close();
      // Credentials of the notification URL appear in no log line.
      const logs = summary.lines.join('\n');
      assert.ok(!logs.includes('pw-secret') && !logs.includes('tk-secret'), logs);
      t.diagnostic(`figures: ${figures.join('; ')}; whole test ${((performance.now() - started0) / 1000).toFixed(2)} s`);
    }
    // The hour's report lists the transitions (written at shutdown).
    const reports = [];
    for (const [, folder] of await hourFolders(join(dir, 'reports'))) {
      for (const name of await reportFilesIn(folder)) reports.push(await readReport(join(folder, name)));
    }
    const blocks = reports.flatMap((x) => (x && !(x instanceof Error) ? [x.blocks] : []));
    assert.equal(blocks.reduce((a, b) => a + (b.orphaned ?? 0), 0), 1);
    assert.equal(blocks.reduce((a, b) => a + (b.restored ?? 0), 0), 1);
    assert.equal(blocks.reduce((a, b) => a + (b.matured ?? 0), 0), 1);
    const tos = blocks.flatMap((b) => (b.transitions ?? []).map((t) => t.to));
    for (const to of ['found', 'accepted', 'orphaned', 'confirmed', 'mature']) assert.ok(tos.includes(to), `${to} in ${tos.join(' ')}`);
  });
});
