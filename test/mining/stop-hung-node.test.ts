// The orderly stop when the node hangs, against a real regtest node: SIGSTOP makes it a node that
// takes connections and answers nothing (what a wedged node does; a running node cannot be made
// to do it otherwise). A Stratum worker's block is being submitted when the stop comes: the stop
// gives the submission the stop's grace (STOP_GRACE_MS), then gives it up instead of waiting for
// the RPC timeout (30 s) — the service returns, the block is pending in the journal, the summary
// says it will be submitted again — and the next run, with the node answering again, settles it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { describeSettlement } from '../../src/miner/service.js';
import { FoundBlockJournal } from '../../src/submit/found-block-journal.js';
import { within } from '../support/events.js';
import { startPoolService } from '../support/pool.js';
import { createWallet, newAddress, startRegtest, type LocalNode } from '../support/regtest.js';
import { blockTarget, TestStratumClient } from '../support/stratum-client.js';

describe('the stop when the node hangs', { timeout: 120_000 }, () => {
  let node: LocalNode;
  let operator: string;
  let own: string;
  before(async () => {
    node = await startRegtest();
    await createWallet(node, 'hung');
    operator = await newAddress(node, 'hung', 'bech32');
    own = await newAddress(node, 'hung', 'bech32');
  });
  after(async () => {
    if (node?.pid !== undefined) process.kill(node.pid, 'SIGCONT');
    await node?.stop();
  });

  it('gives up the submission in flight at the grace, keeps the block pending, and the next run settles it', async () => {
    const p = await startPoolService(node, operator);
    const client = await TestStratumClient.connect(p.port);
    let hash: string;
    try {
      await client.startLikeCpuminer(`${own}.rig`);
      const job = client.job ?? (await client.nextNotify());
      process.kill(node.pid!, 'SIGSTOP');
      const extranonce2 = '00'.repeat(client.extranonce2Size);
      const solved = client.solve(job, extranonce2, blockTarget(job.nbits));
      assert.ok(solved, 'no regtest block within a million nonces');
      hash = solved.hash;
      const claimed = once(p.pool, 'block');
      const reply = await client.submit(`${own}.rig`, job, extranonce2, solved.ntime, solved.nonce);
      assert.equal(reply.result, true, JSON.stringify(reply));
      await within('the pool to claim the block', claimed);
    } finally {
      await client.close();
    }

    // The stop: the submitblock to the stopped node is given up at the grace, not at the RPC timeout.
    const summary = await p.stop();
    assert.deepEqual(summary.atStop, { inFlight: 1, settled: { unconfirmed: 1 }, unsettled: 0 });
    assert.equal(describeSettlement(summary.atStop), '1 submission in flight at the stop: unconfirmed 1 (no answer from the node: pending in the journal, submitted again at the next start)');
    assert.ok(summary.lines.some((l) => l.startsWith('error block ') && l.includes('unconfirmed (the node had not answered when the submission was stopped)')), summary.lines.join('\n'));
    const journal = await FoundBlockJournal.open(join(p.dir, 'found-blocks.jsonl'));
    try {
      assert.deepEqual((await journal.pending()).map((r) => r.hash), [hash]);
    } finally {
      await journal.close();
    }

    // The node answers again (and, resumed, also the request the stop gave up on: the journal
    // cannot know); the next run on the same journal settles the block.
    process.kill(node.pid!, 'SIGCONT');
    const again = await startPoolService(node, operator, [], { dir: p.dir });
    const second = await again.stop();
    const replayed = second.lines.find((l) => l.includes('journal: replayed a block found earlier'));
    assert.match(replayed ?? '', new RegExp(`"hash":"${hash}","outcome":"accepted"`), second.lines.join('\n'));
    const header = await node.rpc.call<{ confirmations: number }>('getblockheader', hash);
    assert.ok(header.confirmations >= 1, 'the block is in the active chain');
  });
});
