// A found block survives a kill -9 of the pool: a Stratum worker's share meets the block target
// while the node is down (so submitblock keeps failing and retrying), the pool process is
// SIGKILLed, the node comes back, and the next `mine` replays the journal: the block is in the
// node's chain with the worker's address paid.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { freePorts } from '../../src/devnode/local-node.js';
import { CliProcess } from '../support/cli.js';
import { mineArgs, scratchDir } from '../support/mining.js';
import { createWallet, newAddress, paidTo, startRegtest, type LocalNode, type VerboseBlock } from '../support/regtest.js';
import { blockTarget, TestStratumClient } from '../support/stratum-client.js';

describe('a pool killed right after a share solved a block', { timeout: 180_000 }, () => {
  let node: LocalNode;
  before(async () => {
    node = await startRegtest();
  });
  after(async () => {
    await node?.stop();
  });

  it('the journal replays the block at the next start', async () => {
    const wallet = await createWallet(node, 'crash');
    const operator = await newAddress(node, wallet, 'bech32');
    const own = await newAddress(node, wallet, 'bech32m');
    const dir = await scratchDir();
    const [port] = await freePorts(1);
    const args = ['mine', ...mineArgs(node, operator, dir, ['--engines', 'none', '--stratum-port', String(port)])];
    const pool = new CliProcess(args);
    const client = await (async () => {
      await pool.waitFor(/Stratum pool on stratum\+tcp:/);
      return TestStratumClient.connect(port!);
    })();
    let replay: CliProcess | undefined;
    try {
      const firstJob = client.nextNotify();
      await client.startLikeCpuminer(`${own}.x`);
      const job = await firstJob;
      const height = await node.rpc.call<number>('getblockcount');
      await node.kill(); // the node crashes: submitblock cannot reach it
      const share = client.solve(job, '0000beef', blockTarget(job.nbits))!;
      const reply = await client.submit(`${own}.x`, job, '0000beef', share.ntime, share.nonce);
      assert.equal(reply.result, true);
      await pool.waitFor(/submitblock failed; retrying/);
      const killed = await pool.stop('SIGKILL');
      assert.equal(killed.signal, 'SIGKILL');
      const journal = await readFile(join(dir, 'found-blocks.jsonl'), 'utf8');
      assert.match(journal, new RegExp(`"type":"found".*"hash":"${share.hash}"`), 'journaled before submitblock');

      await node.restart();
      replay = new CliProcess(args);
      await replay.waitFor(/journal: replayed a block found earlier/, 60_000);
      const header = await node.rpc.call<{ confirmations: number; height: number }>('getblockheader', share.hash);
      assert.ok(header.confirmations >= 1, 'in the active chain');
      assert.equal(header.height, height + 1);
      const block = await node.rpc.call<VerboseBlock>('getblock', share.hash, 2);
      assert.equal(paidTo(block).find((o) => o.value > 0)!.address, own);
      const records = (await readFile(join(dir, 'found-blocks.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { type: string; hash: string; outcome?: string; worker?: string });
      assert.equal(records.find((r) => r.type === 'found')!.worker, `${own}.x`);
      assert.ok(records.some((r) => r.type === 'outcome' && r.hash === share.hash && r.outcome === 'accepted'));
    } finally {
      await client.close();
      await pool.stop('SIGKILL');
      const end = replay ? await replay.stop('SIGTERM') : undefined;
      if (end) assert.equal(end.code, 0, replay!.stderr.slice(-1500));
    }
  });
});
