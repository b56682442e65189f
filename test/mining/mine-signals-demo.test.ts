// The service as a process: SIGINT/SIGTERM stop it in order (exit 0, every found block's
// outcome in the journal), and `demo` runs the whole main job on its own and cleans up.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { CliProcess, runCli } from '../support/cli.js';
import { mineArgs, scratchDir } from '../support/mining.js';
import { createWallet, newAddress, startRegtest, type LocalNode } from '../support/regtest.js';

describe('mine stops in order on a signal', { timeout: 300_000 }, () => {
  let node: LocalNode;
  before(async () => {
    node = await startRegtest();
  });
  after(async () => {
    await node?.stop();
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal}: engines stop, submissions finish, the journal is complete, exit 0`, async () => {
      const wallet = await createWallet(node, `w-${signal}`);
      const address = await newAddress(node, wallet, 'bech32');
      const dir = await scratchDir();
      const child = new CliProcess(['mine', ...mineArgs(node, address, dir)]);
      // Let it mine a while (regtest: dozens of blocks a second), then interrupt it.
      await child.waitFor(/outcome=accepted/, 60_000, 10);
      const { code } = await child.stop(signal);
      const stderr = child.stderr;
      assert.equal(code, 0, stderr.slice(-2000));
      assert.match(stderr, new RegExp(`${signal}: stopping`));
      assert.match(stderr, /stopped \(signal\) after/);
      const records = (await readFile(join(dir, 'found-blocks.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { type: string; hash: string; outcome?: string });
      const found = records.filter((r) => r.type === 'found').map((r) => r.hash);
      const settled = new Set(records.filter((r) => r.type === 'outcome').map((r) => r.hash));
      assert.ok(found.length >= 10);
      for (const hash of found) assert.ok(settled.has(hash), `block ${hash} has an outcome`);
      for (const hash of found) {
        const header = await node.rpc.call<{ confirmations: number }>('getblockheader', hash);
        assert.ok(header.confirmations >= 1, `block ${hash} is in the chain`);
      }
    });
  }
});

describe('demo', { timeout: 300_000 }, () => {
  it('starts a private node, mines with every engine on regtest and signet, prints it, cleans up', async () => {
    // Its own temporary folder, so that nothing else running on the machine counts.
    const tmp = await scratchDir('solominer-demo-tmp-');
    const r = await runCli(['demo', '--blocks', '2'], { timeoutMs: 180_000, env: { ...process.env, TMPDIR: tmp } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /regtest .*node \/Satoshi:/);
    const sections = r.stdout.split(/^private signet/m);
    assert.equal(sections.length, 2, r.stdout);
    for (const kind of ['cpu', 'gpu']) {
      assert.match(sections[0]!, new RegExp(`^  ${kind}/.+: 2 blocks, \\d+ hashes`, 'm'), `${kind} on regtest:\n${r.stdout}`);
      assert.match(sections[1]!, new RegExp(`^  ${kind}/.+: 1 block, \\d+ hashes in [\\d.]+ s \\([\\d.]+ MH/s\\)`, 'm'), `${kind} on signet:\n${r.stdout}`);
    }
    const heights = [...r.stdout.matchAll(/height\s+(\d+)\s+([0-9a-f]{64})\s+[\d.]+ ms/g)];
    // Two regtest blocks per engine, then one signet block of real work per engine.
    assert.deepEqual(heights.map((m) => Number(m[1])), [1, 2, 3, 4, 1, 2], r.stdout);
    for (const m of heights.slice(4)) assert.match(m[2]!, /^0000/);
    assert.equal((r.stdout.match(/the node has all \d+ block\(s\) above in its active chain/g) ?? []).length, 2, r.stdout);
    assert.deepEqual(await readdir(tmp), [], 'the node data and the demo folder are removed');
  });
});
