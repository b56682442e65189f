// A fleet on one machine, every part a real process: a solominer pool (`--engines none`) in
// front of a private signet node (real proof of work) and three solominer workers `mine --pool`
// (two CPU, one GPU on software Vulkan). Every block is accepted and pays the workers' address;
// no two workers ever hash the same header (from the shares the pool logged); a worker killed
// mid-run is dropped by the pool; the pool restarted mid-run gets its workers back.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { freePorts } from '../../src/devnode/local-node.js';
import { CliProcess } from '../support/cli.js';
import { mineArgs, scratchDir } from '../support/mining.js';
import { createWallet, newAddress, paidTo, startPrivateSignet, type LocalNode, type VerboseBlock } from '../support/regtest.js';

const count = (text: string, pattern: RegExp) => (text.match(new RegExp(pattern.source, 'g')) ?? []).length;

describe('a fleet: one pool, three workers, a private signet', { timeout: 300_000 }, () => {
  let node: LocalNode;
  before(async () => {
    node = await startPrivateSignet();
  });
  after(async () => {
    await node?.stop();
  });

  it('every block accepted and paid; disjoint work; a killed worker dropped; a restarted pool rejoined', async () => {
    const address = await newAddress(node, await createWallet(node, 'fleet'), 'bech32');
    const dir = await scratchDir();
    const [port] = await freePorts(1);
    const url = `stratum+tcp://127.0.0.1:${port}`;
    const poolArgs = ['mine', ...mineArgs(node, address, dir, ['--engines', 'none', '--stratum-port', String(port), '--stratum-difficulty', '0.0002', '--log-level', 'debug'])];
    const startHeight = await node.rpc.call<number>('getblockcount');
    let pool = new CliProcess(poolArgs);
    const poolLogs: string[] = [];
    const workers: CliProcess[] = [];
    try {
      await pool.waitFor(/Stratum pool on/);
      const worker = (name: string, engine: string) =>
        new CliProcess(['mine', '--pool', url, '--user', `${address}.${name}`, '--engines', engine, '--threads', '1', '--report-dir', join(dir, name)]);
      workers.push(worker('cpu1', 'cpu'), worker('cpu2', 'cpu'), worker('gpu1', 'gpu'));
      for (const w of workers) await w.waitFor(/logged in to the pool/, 60_000);
      await pool.waitFor(/block \d+ accepted hash/, 120_000, 3);
      // Every worker hashes for the pool (the GPU on software Vulkan starts slowest).
      for (const name of ['cpu1', 'cpu2', 'gpu1']) await pool.waitFor(new RegExp(`stratum: share of \\S+\\.${name} accepted`), 120_000);

      // A worker killed: the pool drops it.
      await workers[1]!.stop('SIGKILL');
      await pool.waitFor(new RegExp(`disconnected \\(closed by the miner\\) worker=${address}\\.cpu2`), 30_000);

      // The pool restarted: the workers come back and blocks go on.
      const first = await pool.stop('SIGTERM');
      assert.equal(first.code, 0, pool.stderr.slice(-1500));
      poolLogs.push(pool.stderr);
      pool = new CliProcess(poolArgs);
      await pool.waitFor(/Stratum pool on/);
      for (const w of [workers[0]!, workers[2]!]) await w.waitFor(/logged in to the pool/, 60_000, 2);
      await pool.waitFor(/block \d+ accepted hash/, 120_000, 2);
    } finally {
      for (const w of workers) await w.stop('SIGTERM');
      const end = await pool.stop('SIGTERM');
      poolLogs.push(pool.stderr);
      assert.equal(end.code, 0, pool.stderr.slice(-1500));
    }
    for (const w of [workers[0]!, workers[2]!]) assert.match(w.stderr, /stopped \(signal\) after/);

    // Every block since the start pays the workers' address; the node has no other.
    const tip = await node.rpc.call<number>('getblockcount');
    assert.ok(tip >= startHeight + 5, `${tip - startHeight} blocks`);
    for (let h = startHeight + 1; h <= tip; h++) {
      const block = await node.rpc.call<VerboseBlock>('getblock', await node.rpc.call<string>('getblockhash', h), 2);
      assert.equal(paidTo(block).find((o) => o.value > 0)!.address, address, `block ${h}`);
      assert.match(block.hash, /^0000/);
    }
    const journal = (await readFile(join(dir, 'found-blocks.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { type: string; outcome?: string; worker?: string });
    assert.equal(journal.filter((r) => r.type === 'outcome' && r.outcome !== 'accepted').length, 0, 'no block refused');
    // Which worker wins a block is luck; that each one works is not: see the shares below.
    assert.ok(journal.filter((r) => r.type === 'found').every((r) => r.worker?.startsWith(`${address}.`)), 'every block by a worker of the fleet');

    // Disjoint work: an extranonce (extranonce1 ‖ extranonce2) is only ever one worker's.
    const owner = new Map<string, string>();
    let shares = 0;
    for (const log of poolLogs) {
      for (const m of log.matchAll(/stratum: share of \S+\.(\w+) accepted job=\S+ extranonce=([0-9a-f]+)/g)) {
        shares++;
        const seen = owner.get(m[2]!);
        assert.ok(seen === undefined || seen === m[1], `extranonce ${m[2]} hashed by ${seen} and ${m[1]}`);
        owner.set(m[2]!, m[1]!);
      }
    }
    assert.ok(shares >= 5, `${shares} shares`);
    // Every worker's shares reached the pool (at a share difficulty well under the network's,
    // each sends several a second).
    assert.deepEqual([...new Set(owner.values())].sort(), ['cpu1', 'cpu2', 'gpu1']);
    assert.equal(count(poolLogs.join('\n'), /block \d+ rejected/), 0);
  });
});
