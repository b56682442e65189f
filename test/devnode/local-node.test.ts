// LocalNode against a real bitcoind (regtest and a private signet): start, ZMQ, restart with a
// new cookie, crash and recovery, a mixed mempool, clean stop; and a start that must fail.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';

import { NodeAuthError } from '../../src/node/errors.js';
import { LocalNode, LocalNodeError, stopAll } from '../../src/devnode/local-node.js';
import { RpcClient } from '../../src/node/rpc-client.js';
import { blockAt, createWallet, fillMempool, fundWallet, newAddress, mineTo, paidTo, startPrivateSignet, startRegtest, type Wallet } from '../support/regtest.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('LocalNode on regtest', { timeout: 300_000 }, () => {
  let node: LocalNode;
  let wallet: Wallet;

  before(async () => {
    node = await startRegtest();
  });
  after(async () => {
    await node?.stop();
  });

  it('answers RPC on regtest and publishes hashblock on its ZMQ endpoint', async () => {
    assert.equal(typeof node.pid, 'number');
    assert.ok(alive(node.pid!));
    assert.match(node.rpcUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    const info = await node.rpc.call<{ chain: string; blocks: number }>('getblockchaininfo');
    assert.equal(info.chain, 'regtest');
    assert.equal(info.blocks, 0);
    assert.ok(node.zmqEndpoint);
    const zmq = await node.rpc.call<{ type: string; address: string }[]>('getzmqnotifications');
    assert.deepEqual(
      zmq.filter((z) => z.type === 'pubhashblock').map((z) => z.address),
      [node.zmqEndpoint],
    );
  });

  it('restarts on the same ports with a new cookie; clients made before keep working', async () => {
    const oldCookie = await readFile(node.cookiePath, 'utf8');
    const [user, password] = oldCookie.trim().split(':') as [string, string];
    const early = new RpcClient({ url: node.rpcUrl, credentials: { kind: 'cookie', path: node.cookiePath } });
    assert.equal(await early.call<number>('getblockcount'), 0); // caches the old cookie
    const { rpcUrl, zmqEndpoint } = node;
    const oldPid = node.pid;

    await node.restart();

    assert.notEqual(node.pid, oldPid);
    assert.equal(node.rpcUrl, rpcUrl);
    assert.equal(node.zmqEndpoint, zmqEndpoint);
    assert.notEqual(await readFile(node.cookiePath, 'utf8'), oldCookie, 'the restarted node wrote a new cookie');
    // The old credentials are refused now, so the clients below really went through a re-read.
    const stale = new RpcClient({ url: node.rpcUrl, credentials: { kind: 'password', user, password } });
    await assert.rejects(stale.call('getblockcount'), NodeAuthError);
    assert.equal(await early.call<number>('getblockcount'), 0);
    assert.equal(await node.rpc.call<number>('getblockcount'), 0);
  });

  it('survives a SIGKILL: kill() then restart()', async () => {
    const pid = node.pid!;
    await node.kill();
    assert.equal(node.isRunning, false);
    assert.equal(alive(pid), false);
    await node.restart();
    assert.ok(node.isRunning);
    assert.equal((await node.rpc.call<{ chain: string }>('getblockchaininfo')).chain, 'regtest');
  });

  it('funds a wallet (through its /wallet/<name> endpoint) and mines to an address', async () => {
    wallet = await createWallet(node, 'miner-test');
    assert.equal((await wallet.rpc.call<{ walletname: string }>('getwalletinfo')).walletname, 'miner-test');
    await fundWallet(node, wallet);
    assert.equal(await node.rpc.call<number>('getblockcount'), 101);
    assert.ok((await wallet.rpc.call<number>('getbalance')) >= 50);

    const address = await newAddress(node, wallet, 'bech32m');
    const [hash] = await mineTo(node, address, 1);
    const block = await blockAt(node, 102);
    assert.equal(block.hash, hash);
    const paid = paidTo(block);
    assert.equal(paid[0]?.address, address);
    assert.equal(paid[0]?.type, 'witness_v1_taproot');
  });

  it('fills the mempool with 40 transactions of mixed output types, all in the template', async () => {
    const txids = await fillMempool(node, wallet, 40);
    assert.equal(txids.length, 40);
    assert.equal(new Set(txids).size, 40);
    const mempool = new Set(await node.rpc.call<string[]>('getrawmempool'));
    for (const txid of txids) assert.ok(mempool.has(txid), `${txid} is in the mempool`);

    const types = new Set<string>();
    for (const txid of txids) {
      const tx = await node.rpc.call<{ vout: { scriptPubKey: { type: string } }[] }>('getrawtransaction', txid, 1);
      for (const o of tx.vout) types.add(o.scriptPubKey.type);
    }
    for (const t of ['pubkeyhash', 'scripthash', 'witness_v0_keyhash', 'witness_v1_taproot', 'witness_v0_scripthash']) {
      assert.ok(types.has(t), `an output of type ${t} (saw ${[...types].join(', ')})`);
    }

    const template = await node.rpc.call<{ transactions: { txid: string }[] }>('getblocktemplate', { rules: ['segwit'] });
    const inTemplate = new Set(template.transactions.map((t) => t.txid));
    for (const txid of txids) assert.ok(inTemplate.has(txid), `${txid} is in the block template`);
  });

  it('stops cleanly, removes its temporary datadir, and a second stop() is a no-op', async () => {
    const { datadir } = node;
    const pid = node.pid!;
    assert.ok(existsSync(datadir));
    await node.stop();
    assert.equal(alive(pid), false);
    assert.equal(existsSync(datadir), false, `${datadir} was removed`);
    assert.equal(node.pid, undefined);
    await node.stop();
  });
});

describe('LocalNode on a private signet', { timeout: 300_000 }, () => {
  it('serves a getblocktemplate with rules segwit+signet at height 1 (no peers, in IBD)', async () => {
    const node = await startPrivateSignet();
    try {
      const info = await node.rpc.call<{ chain: string; blocks: number }>('getblockchaininfo');
      assert.equal(info.chain, 'signet');
      assert.equal(info.blocks, 0);
      assert.ok(existsSync(node.cookiePath), `cookie at ${node.cookiePath}`);
      const template = await node.rpc.call<{ height: number; signet_challenge?: string; rules: string[]; bits: string }>(
        'getblocktemplate',
        { rules: ['segwit', 'signet'] },
      );
      assert.equal(template.height, 1);
      assert.equal(template.signet_challenge, '51');
      assert.ok(template.rules.includes('!signet'), `rules ${template.rules.join(',')}`); // '!': a client must understand it
      assert.equal(template.bits, '1e0377ae'); // the signet proof-of-work limit: difficulty ~0.001
    } finally {
      const { datadir } = node;
      await stopAll();
      assert.equal(node.isRunning, false);
      assert.equal(existsSync(datadir), false);
    }
  });
});

describe('LocalNode start failure', { timeout: 300_000 }, () => {
  it('is one line naming the binary and the end of debug.log', async () => {
    // -bind cannot be combined with -listen=0: bitcoind refuses to start.
    const err = await LocalNode.start({ network: 'regtest', extraArgs: ['-bind=127.0.0.1'], zmq: false }).then(
      () => assert.fail('the node started'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof LocalNodeError, String(err));
    assert.ok(!err.message.includes('\n'), err.message);
    assert.match(err.message, /bitcoind \S*bitcoind\S* \(regtest/);
    assert.match(err.message, /exited during start-up/);
    assert.match(err.message, /(debug\.log|stderr): .*bind/i);
  });
});
