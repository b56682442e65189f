// `mine --smoke-test` and `mine --smoke-network` against a real regtest node, through the real
// command line: a checklist, exit 0 on a good configuration; on each broken one, exit 1 with
// exactly one `fail` line, naming the cause (and never the password).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { freePorts } from '../../src/devnode/local-node.js';
import { runCli, type CliResult } from '../support/cli.js';
import { mineArgs, scratchDir } from '../support/mining.js';
import { createWallet, newAddress, startRegtest, type LocalNode } from '../support/regtest.js';

const MAINNET_ADDRESS = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4';

function lines(r: CliResult): string[] {
  return r.stdout.trimEnd().split('\n');
}

function failLines(r: CliResult): string[] {
  return lines(r).filter((l) => l.startsWith('fail '));
}

/** Exit 1, exactly one fail line, and it matches `cause`. */
function failsWith(r: CliResult, cause: RegExp, what = 'smoke test'): void {
  assert.equal(r.code, 1, `exit 1 expected:\n${r.stdout}\n${r.stderr}`);
  const fails = failLines(r);
  assert.equal(fails.length, 1, `one fail line expected:\n${r.stdout}`);
  assert.match(fails[0]!, cause);
  assert.match(lines(r).at(-1)!, new RegExp(`^${what}: FAILED \\(1 fail: `));
  assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at .*\.js:\d+/, 'no stack trace');
}

function replaceValue(args: string[], flag: string, value: string): string[] {
  const out = [...args];
  out[out.indexOf(flag) + 1] = value;
  return out;
}

describe('mine --smoke-test / --smoke-network on regtest', { timeout: 300_000 }, () => {
  let node: LocalNode;
  let dir: string;
  let address: string;

  before(async () => {
    node = await startRegtest();
    await createWallet(node, 'smoke');
    address = await newAddress(node, 'smoke', 'bech32');
    dir = await scratchDir('solominer-smoke-');
  });
  after(async () => {
    await node?.stop();
  });

  it('passes on a good configuration: known answers on every back end, the node accepts the proposal', async () => {
    const heightBefore = await node.rpc.call<number>('getblockcount');
    const r = await runCli(['mine', ...mineArgs(node, address, dir), '--smoke-test']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const out = lines(r);
    assert.deepEqual(failLines(r), []);
    for (const l of out.slice(0, -1)) assert.match(l, /^(ok|warn|skip) {1,3}\S/);
    assert.ok(out.some((l) => /^ok {3}known answers cpu\/scalar: genesis, block 125552/.test(l)), r.stdout);
    assert.ok(out.some((l) => /^ok {3}template: height \d+/.test(l)), r.stdout);
    assert.ok(out.some((l) => l.startsWith(`ok   block proposal: the node accepts the block built for ${address}`)), r.stdout);
    assert.ok(out.some((l) => /^ok {3}zmq: /.test(l)), r.stdout);
    assert.match(out.at(-1)!, /^smoke test: passed \(\d+ ok/);
    // Nothing was mined.
    assert.equal(await node.rpc.call<number>('getblockcount'), heightBefore);
  });

  it('fails on a wrong password, naming the credentials and never showing the password', async () => {
    const args = mineArgs(node, address, dir).filter((a, i, all) => a !== '--rpc-cookie' && all[i - 1] !== '--rpc-cookie');
    const r = await runCli(['mine', ...args, '--rpc-user', 'nobody', '--rpc-password', 'hunter2-secret', '--smoke-test']);
    failsWith(r, /^fail node: .*refused the RPC credentials .*--rpc-user\/--rpc-password or --rpc-cookie/);
    assert.doesNotMatch(r.stdout + r.stderr, /hunter2-secret/);
  });

  it('fails on a ZMQ endpoint the node does not publish on', async () => {
    const [port] = await freePorts(1);
    const r = await runCli(['mine', ...replaceValue(mineArgs(node, address, dir), '--zmq', `tcp://127.0.0.1:${port}`), '--smoke-test']);
    failsWith(r, new RegExp(`^fail zmq: the node publishes no hashblock notifications at tcp://127\\.0\\.0\\.1:${port} \\(it publishes them at .*\\)`));
  });

  it('fails on an unwritable report directory', async () => {
    const blocker = join(dir, 'a-file');
    await writeFile(blocker, 'a file where a folder should be');
    const r = await runCli(['mine', ...replaceValue(mineArgs(node, address, dir), '--report-dir', join(blocker, 'reports')), '--smoke-test']);
    failsWith(r, /^fail report directory: cannot write .*a-file\/reports \((ENOTDIR|EEXIST)\)/);
  });

  it('fails on an address of another network', async () => {
    const r = await runCli(['mine', ...mineArgs(node, MAINNET_ADDRESS, dir), '--smoke-test']);
    failsWith(r, /^fail payout address: .*mainnet address, expected regtest/);
    assert.ok(lines(r).some((l) => /^skip {1}block proposal: /.test(l)), r.stdout);
  });

  it('--smoke-network: latency, chain, ZMQ delivery, a fresh template, one block mined and accepted', async () => {
    const heightBefore = await node.rpc.call<number>('getblockcount');
    const r = await runCli(['mine', ...mineArgs(node, address, dir), '--smoke-network']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const out = lines(r);
    assert.deepEqual(failLines(r), []);
    assert.ok(out.some((l) => /^ok {3}rpc latency: median /.test(l)), r.stdout);
    assert.ok(out.some((l) => /^ok {3}zmq delivery: hashblock [0-9a-f]{64}/.test(l)), r.stdout);
    assert.ok(out.some((l) => /^ok {3}template: height \d+ on the best block/.test(l)), r.stdout);
    const mined = out.find((l) => l.startsWith('ok   mine one block: '));
    assert.ok(mined, r.stdout);
    const hash = /\(([0-9a-f]{64})\)/.exec(mined)?.[1];
    assert.ok(hash, mined);
    // The block is the tip and pays the payout address.
    assert.equal(await node.rpc.call<string>('getbestblockhash'), hash);
    const block = await node.rpc.call<{ tx: { vout: { scriptPubKey: { address?: string } }[] }[] }>('getblock', hash, 2);
    assert.ok(block.tx[0]!.vout.some((o) => o.scriptPubKey.address === address));
    // The blocks the node mined for the ZMQ check (one, or more when a notification came late
    // on a loaded machine: the line says how many), and one mined by the miner.
    const zmqLine = out.find((l) => l.startsWith('ok   zmq delivery: '))!;
    const triggered = Number(/block (\d+) of \d+ mined on request/.exec(zmqLine)?.[1] ?? 1);
    assert.equal(await node.rpc.call<number>('getblockcount'), heightBefore + triggered + 1, r.stdout);
    assert.match(out.at(-1)!, /^smoke network: passed/);
  });

  it('a configuration that cannot be loaded still exits 2', async () => {
    const r = await runCli(['mine', ...mineArgs(node, address, dir), '--threads', 'many', '--smoke-test']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^solominer mine: --threads: expected/);
  });
});
