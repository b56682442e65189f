// The dashboard's found-blocks table says what `solominer blocks` says (status and confirmations
// of each block, from the block tracker), and its nodes table shows each configured node: a real
// miner on two real regtest nodes, the page in headless Chromium, `blocks --json` from the CLI.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { CpuEngine } from '../../src/engines/cpu-engine.js';
import { launchBrowser } from '../support/browser.js';
import { runCli } from '../support/cli.js';
import { until } from '../support/events.js';
import { GatedEngine } from '../support/gated-engine.js';
import { mineConfig, runMiner, scratchDir } from '../support/mining.js';
import { createWallet, mineTo, newAddress, startRegtest, type LocalNode } from '../support/regtest.js';

describe('dashboard: found blocks as `blocks` shows them, and every node', { timeout: 180_000 }, () => {
  const nodes: LocalNode[] = [];
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('status and confirmations of each block match blocks --json; the nodes table lists both nodes', async () => {
    const [a, b] = await Promise.all([startRegtest(), startRegtest()]);
    nodes.push(a!, b!);
    const wallet = await createWallet(a!, 'w');
    const address = await newAddress(a!, wallet, 'bech32');
    const rival = await newAddress(a!, wallet, 'bech32');
    const dir = await scratchDir();
    const journal = join(dir, 'found-blocks.jsonl');
    const engine = new GatedEngine(new CpuEngine({ backend: 'scalar', threads: 1 }));
    const stop = new AbortController();
    let rows: Array<{ hash: string; status: string; confirmations: string; known: string }> = [];
    let nodeRows: string[][] = [];
    interface CliBlocks {
      blocks: Array<{ hash: string; status: string; confirmations: number | null }>;
    }
    let cli: CliBlocks | undefined;
    let statusText = '';
    await runMiner(await mineConfig(a!, address, dir, ['--metrics-port', '0', '--node', `${b!.rpcUrl},zmq=${b!.zmqEndpoint!},cookie=${b!.cookiePath}`]), {
      engines: [engine],
      signal: stop.signal,
      telemetry: { statusPushIntervalMs: 200 },
      onStarted: ({ stats, tracker, recorder }) => {
        void (async () => {
          const browser = await launchBrowser();
          try {
            engine.pass(3);
            await until(() => stats.accepted >= 3, 30_000, '3 blocks');
            // Two blocks of someone else's on top: every block deeper, the first one by 4.
            const tip = await mineTo(a!, rival, 2);
            await until(() => tracker.tip?.hash === tip.at(-1) && tracker.blocks().every((x) => x.status === 'confirmed'), 20_000, 'the tracker at the new tip');
            const { page, errors } = await browser.newPage();
            await page.goto(`${recorder.metricsUrl}/`);
            await page.locator('#nodes-card:not([hidden])').waitFor({ timeout: 15_000 });
            await until(async () => (await page.locator('#blocks tbody tr td.hash').count()) === 3, 15_000, 'three rows');
            await until(async () => (await page.locator('#blocks tbody tr td:nth-child(4)').allTextContents()).includes('5'), 15_000, 'the first block at 5 confirmations');
            for (const tr of await page.locator('#blocks tbody tr').all()) {
              const cells = await tr.locator('td').allTextContents();
              rows.push({ hash: cells[5]!, status: cells[2]!, confirmations: cells[3]!, known: cells[6]! });
            }
            nodeRows = await Promise.all((await page.locator('#nodes tbody tr').all()).map((tr) => tr.locator('td').allTextContents()));
            const r = await runCli(['blocks', '--journal', journal, '--network', 'regtest', '--rpc-url', a!.rpcUrl, '--rpc-cookie', a!.cookiePath, '--json']);
            assert.equal(r.code, 0, r.stderr);
            cli = JSON.parse(r.stdout) as CliBlocks;
            // `status` says the same of each node.
            const st = await runCli(['status', '--url', `${recorder.metricsUrl}/status`]);
            assert.equal(st.code, 0, st.stderr);
            statusText = st.stdout;
            assert.deepEqual(errors, []);
          } finally {
            await browser.close();
            stop.abort();
          }
        })();
      },
    });
    assert.ok(cli, 'blocks --json ran');
    const listed: CliBlocks = cli;
    assert.equal(rows.length, 3);
    for (const row of rows) {
      const fromCli = listed.blocks.find((x) => x.hash === row.hash);
      assert.ok(fromCli, `row ${row.hash} is a block of the journal`);
      assert.deepEqual([row.status, row.confirmations], [fromCli.status, String(fromCli.confirmations)], `block ${row.hash}`);
      assert.equal(row.known, '2 of 2');
    }
    assert.deepEqual(rows.map((r) => r.confirmations), ['3', '4', '5'], 'newest first, each deeper than the one after');
    assert.equal(nodeRows.length, 2);
    assert.match(nodeRows[0]![0]!, new RegExp(`^1\\. ${a!.rpcUrl.replace(/[.:/]/g, '\\$&')} \\(work\\)$`));
    assert.equal(nodeRows[0]![1], 'ok');
    assert.match(nodeRows[1]![0]!, new RegExp(`^2\\. ${b!.rpcUrl.replace(/[.:/]/g, '\\$&')}$`));
    assert.match(nodeRows[1]![6]!, /accepted 3/);
    assert.match(statusText, new RegExp(`node 1 ${a!.rpcUrl.replace(/[.:/]/g, '\\$&')} \\(work from it\\): ok, height \\d+, zmq connected, templates \\d+ \\(last .* ago\\), answers accepted 3`));
    assert.match(statusText, new RegExp(`node 2 ${b!.rpcUrl.replace(/[.:/]/g, '\\$&')}: ok, height \\d+, zmq connected, templates 0, answers accepted 3`));
  });
});
