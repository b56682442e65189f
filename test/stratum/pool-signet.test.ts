// The pool on a private signet (real proof of work, difficulty ~0.001): an ESP-Miner-like
// client that builds its headers from mining.notify (test/support/stratum-client.ts) and lets
// the native scanner search nonces submits shares at the difficulty vardiff sets — which
// climbs from the client's suggestion toward the network's — until one is a real-work block the
// node accepts, paying the client's address.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { CpuEngine } from '../../src/engines/cpu-engine.js';
import { scanRange } from '../../src/engines/scan-range.js';
import { blockAt, createWallet, newAddress, paidTo, startPrivateSignet, type LocalNode } from '../support/regtest.js';
import { startPoolService } from '../support/pool.js';
import { blockTarget, headerOf, hex8, TestStratumClient, targetOfDifficulty } from '../support/stratum-client.js';

function targetBytes(target: bigint): Uint8Array {
  return Uint8Array.from(Buffer.from(target.toString(16).padStart(64, '0'), 'hex'));
}

describe('Stratum pool on a private signet', { timeout: 300_000 }, () => {
  let node: LocalNode;
  let address: string;
  let operator: string;
  before(async () => {
    node = await startPrivateSignet();
    const wallet = await createWallet(node, 'signet-pool');
    address = await newAddress(node, wallet, 'bech32m');
    operator = await newAddress(node, wallet, 'bech32');
  });
  after(async () => {
    await node?.stop();
  });

  it('shares at vardiff, then a real-work block paying the worker', async () => {
    const p = await startPoolService(node, operator, ['--stratum-share-seconds', '1']);
    const client = await TestStratumClient.connect(p.port);
    const engine = new CpuEngine({ threads: 1 });
    const user = `${address}.nerd`;
    const difficulties: number[] = [];
    client.on('difficulty', (d) => difficulties.push(d));
    try {
      await client.startLikeEspMiner(user, 'x', 0.00002);
      // The suggestion came after authorize (pipelined): it goes out with a job of its own.
      if (client.difficulty !== 0.00002) await client.nextNotify(() => client.difficulty === 0.00002);
      const height = await node.rpc.call<number>('getblockcount');
      let accepted = 0;
      let blockHash: string | undefined;
      let notifiesAtBlock = 0;
      // Until a block is found and vardiff has raised the difficulty (a block may come first).
      const raised = () => difficulties.slice(difficulties.indexOf(0.00002)).some((d) => d > 0.00002);
      for (let en2 = 1; en2 < 100_000 && (blockHash === undefined || !raised()); en2++) {
        const job = client.job!;
        const extranonce2 = hex8(en2);
        const ntime = Number.parseInt(job.ntime, 16);
        const version = Number.parseInt(job.version, 16);
        const header = headerOf(job, client.extranonce1, extranonce2, ntime, 0, version);
        const shareTarget = targetOfDifficulty(client.difficulty!);
        const r = await scanRange(engine, { id: `s${en2}`, header, target: targetBytes(shareTarget), start: 0, count: 2 ** 32, stopOnFound: true });
        const found = r.found[0];
        if (!found) continue;
        const reply = await client.submit(user, job, extranonce2, ntime, found.nonce);
        if (reply.error?.[0] === 21) continue; // a new job arrived while scanning
        assert.equal(reply.result, true, JSON.stringify(reply.error));
        accepted++;
        if (blockHash === undefined && BigInt(`0x${found.hash}`) <= blockTarget(job.nbits)) {
          blockHash = found.hash;
          notifiesAtBlock = client.notifies.length;
        }
      }
      assert.ok(blockHash, 'a block was found');
      assert.ok(accepted >= 2, `${accepted} shares accepted`);
      const afterSuggestion = difficulties.slice(difficulties.indexOf(0.00002));
      assert.ok(afterSuggestion.length >= 2 && afterSuggestion.at(-1)! > 0.00002, `vardiff raised the difficulty: ${difficulties.join(', ')}`);
      const network = (await node.rpc.call<{ difficulty: number }>('getblockchaininfo')).difficulty;
      assert.ok(difficulties.every((d) => d <= network * 1.000001), `never above the network difficulty ${network}: ${difficulties.join(', ')}`);
      // The pool moves to the next tip once the node has the block.
      if (!client.notifies.slice(notifiesAtBlock).some((n) => n.clean)) await client.nextNotify((n) => n.clean);
      const block = await blockAt(node, height + 1);
      assert.equal(block.hash, blockHash);
      assert.match(block.hash, /^0000/, 'real proof of work');
      assert.equal(paidTo(block).find((o) => o.value > 0)!.address, address);
      const worker = p.pool.workers().find((w) => w.name === user)!;
      assert.equal(worker.sharesAccepted, accepted);
      assert.ok(worker.hashesPerSecond > 0);
      assert.ok(worker.bestShare.allTime! >= worker.bestShare.run!);
    } finally {
      await engine.close();
      await client.close();
      await p.stop();
    }
  });
});
