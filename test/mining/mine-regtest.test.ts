// `mine` against a real regtest node (README.md, "Test"): blocks are accepted, pay
// the payout address of every type, carry the mempool, and the found-block journal is replayed.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { CpuEngine } from '../../src/engines/cpu-engine.js';
import { scanRange } from '../../src/engines/scan-range.js';
import { buildJob, jobTime, makeWorkUnit, assembleBlock } from '../../src/work/job.js';
import { parseBlockTemplate } from '../../src/node/block-template.js';
import { FoundBlockJournal } from '../../src/submit/found-block-journal.js';
import { addressToScript } from '../../src/bitcoin/address.js';
import { runCli } from '../support/cli.js';
import { mineArgs, mineConfig, runMiner, scratchDir } from '../support/mining.js';
import {
  blockAt,
  createWallet,
  fillMempool,
  fundWallet,
  newAddress,
  paidTo,
  startRegtest,
  type AddressType,
  type LocalNode,
  type Wallet,
} from '../support/regtest.js';

describe('mine on regtest', { timeout: 300_000 }, () => {
  let node: LocalNode;
  let wallet: Wallet;

  before(async () => {
    node = await startRegtest();
    wallet = await createWallet(node, 'test');
  });
  after(async () => {
    await node?.stop();
  });

  it('from a fresh chain, mine --max-blocks 3 mines heights 1, 2, 3, all accepted, each paying the address', async () => {
    assert.equal((await node.rpc.call<{ blocks: number }>('getblockchaininfo')).blocks, 0);
    const address = await newAddress(node, wallet, 'bech32');
    const dir = await scratchDir();
    const r = await runCli(['mine', ...mineArgs(node, address, dir, ['--max-blocks', '3'])]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /blocks: found 3, accepted 3/);
    for (const height of [1, 2, 3]) {
      const block = await blockAt(node, height);
      const payouts = paidTo(block).filter((p) => p.value > 0);
      assert.deepEqual(payouts.map((p) => p.address), [address], `height ${height} pays the address`);
      assert.equal(payouts[0]!.value, 50, 'the whole subsidy');
    }
    // The journal recorded every block before it was submitted, and its outcome after.
    const lines = (await readFile(join(dir, 'found-blocks.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { type: string; outcome?: string; height?: number });
    assert.deepEqual(lines.filter((l) => l.type === 'found').map((l) => l.height), [1, 2, 3]);
    assert.deepEqual(lines.filter((l) => l.type === 'outcome').map((l) => l.outcome), ['accepted', 'accepted', 'accepted']);
  });

  it('a mempool of 40 transactions of mixed output types goes into the next block, accepted', async () => {
    await fundWallet(node, wallet, 101);
    const txids = await fillMempool(node, wallet, 40);
    assert.ok(txids.length >= 40);
    // The node's own template must offer them all first: getblocktemplate reuses its last
    // template for up to 5 s while only the mempool changes (rpc/mining.cpp), so a template
    // built a moment earlier would not show them yet.
    for (let tries = 0; ; tries++) {
      const offered = await node.rpc.callDirect<{ transactions: { txid: string }[] }>('getblocktemplate', { rules: ['segwit'] });
      const ids = new Set(offered.transactions.map((t) => t.txid));
      if (txids.every((id) => ids.has(id))) break;
      assert.ok(tries < 40, 'the node offers the 40 transactions in its template within 10 s');
      await new Promise((r) => setTimeout(r, 250));
    }
    const before = (await node.rpc.call<{ blocks: number }>('getblockchaininfo')).blocks;
    const address = await newAddress(node, wallet, 'bech32m');
    const summary = await runMiner(await mineConfig(node, address, await scratchDir(), ['--max-blocks', '1']));
    assert.equal(summary.stats.accepted, 1, summary.lines.join('\n'));
    const block = await blockAt(node, before + 1);
    const included = new Set(block.tx.map((t) => t.txid));
    for (const txid of txids) assert.ok(included.has(txid), `block includes ${txid}`);
    assert.deepEqual(await node.rpc.call<string[]>('getrawmempool'), []);
    // Fees go to the miner: the payout is the subsidy plus every fee.
    const payout = paidTo(block).find((p) => p.address === address)!;
    assert.ok(payout.value > 50, `payout ${payout.value} includes the fees`);
  });

  const types: Array<[string, AddressType, string]> = [
    ['P2PKH', 'legacy', 'pubkeyhash'],
    ['P2SH-P2WPKH', 'p2sh-segwit', 'scripthash'],
    ['P2WPKH', 'bech32', 'witness_v0_keyhash'],
    ['P2TR', 'bech32m', 'witness_v1_taproot'],
    ['P2WSH', 'p2wsh', 'witness_v0_scripthash'],
  ];
  for (const [name, type, scriptType] of types) {
    it(`pays a ${name} address correctly`, async () => {
      const address = await newAddress(node, wallet, type);
      const height = (await node.rpc.call<{ blocks: number }>('getblockchaininfo')).blocks + 1;
      const summary = await runMiner(await mineConfig(node, address, await scratchDir(), ['--max-blocks', '1']));
      assert.equal(summary.stats.accepted, 1, summary.lines.join('\n'));
      const block = await blockAt(node, height);
      const payout = paidTo(block).find((p) => p.value > 0)!;
      assert.equal(payout.address, address);
      assert.equal(payout.type, scriptType);
      assert.equal(payout.script, Buffer.from(addressToScript(address, 'regtest').script).toString('hex'));
    });
  }

  it('a block journaled but never submitted (miner killed in between) is submitted on the next start', async () => {
    const address = await newAddress(node, wallet, 'bech32');
    const dir = await scratchDir();
    // Build and solve a block exactly as the miner does, journal it, and "crash" before submitblock.
    const template = parseBlockTemplate(await node.rpc.call('getblocktemplate', { rules: ['segwit'] }));
    const job = buildJob(template, { id: 'crash', payoutScript: addressToScript(address, 'regtest').script, extranonceSize: 8, cleanJobs: true });
    const unit = makeWorkUnit(job, new Uint8Array(8).fill(7), jobTime(job));
    const engine = new CpuEngine({ threads: 1 });
    const scan = await scanRange(engine, { id: 'crash', header: unit.header, target: job.targetBytes, start: 0, count: 1000, stopOnFound: true });
    await engine.close();
    const nonce = scan.found[0]!.nonce;
    const block = assembleBlock(unit, nonce);
    const journal = await FoundBlockJournal.open(join(dir, 'found-blocks.jsonl'));
    await journal.appendFound({
      type: 'found', time: new Date().toISOString(), network: 'regtest', height: job.height, hash: block.hash,
      previousblockhash: job.previousBlockHash, blockHex: block.hex,
    });
    await journal.close();
    assert.equal(await node.rpc.call<number>('getblockcount'), job.height - 1, 'the node has not seen it');

    const summary = await runMiner(await mineConfig(node, address, dir, ['--max-blocks', '1']));
    assert.equal(await node.rpc.call<string>('getblockhash', job.height), block.hash, 'the journaled block is in the chain');
    assert.ok(summary.lines.some((l) => l.includes('replayed') && l.includes(block.hash)), summary.lines.join('\n'));
  });
});
