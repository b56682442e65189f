// Bad input and faults of `mine`, through the real command line: one clear line each, the
// right exit code, and never a secret in the output.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { freePorts } from '../../src/devnode/local-node.js';
import { runCli, type CliResult } from '../support/cli.js';
import { mineArgs, scratchDir } from '../support/mining.js';
import { startPrivateSignet, startRegtest, type LocalNode } from '../support/regtest.js';

// Valid addresses of other networks (BIP173/BIP350 test vectors and a regtest one).
const MAINNET_ADDRESS = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4';
const REGTEST_ADDRESS = 'bcrt1qjgxz560ruwsyqg94qhjq263733mkx8yap76xws';

/** The one error line (log lines of the run before the failure carry a timestamp). */
function oneLine(r: CliResult): string {
  const lines = r.stderr.trimEnd().split('\n').filter((l) => !/^\d{4}-\d\d-\d\dT\S+Z (info|warn) /.test(l));
  assert.equal(lines.length, 1, `one line expected:\n${r.stderr}`);
  assert.match(lines[0]!, /^solominer mine: /);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  return lines[0]!;
}

describe('mine: bad input and faults', { timeout: 300_000 }, () => {
  let node: LocalNode;
  let dir: string;

  before(async () => {
    node = await startRegtest();
    dir = await scratchDir();
  });
  after(async () => {
    await node?.stop();
  });

  it('an unreachable node: waits --connect-timeout, then one line and exit 1', async () => {
    const [port] = await freePorts(1);
    const r = await runCli(['mine', '--network', 'regtest', '--rpc-url', `http://127.0.0.1:${port}`, '--rpc-user', 'u', '--rpc-password', 'hunter2-secret',
      '--address', REGTEST_ADDRESS, '--journal', join(dir, 'j1.jsonl'), '--connect-timeout', '1']);
    assert.equal(r.code, 1);
    assert.match(oneLine(r), new RegExp(`node at http://127.0.0.1:${port} is unreachable .*gave up after 1 s`));
    assert.doesNotMatch(r.stderr + r.stdout, /hunter2-secret/);
  });

  it('a wrong password: one line naming the flags, exit 2, the password never shown', async () => {
    const r = await runCli(['mine', '--network', 'regtest', '--rpc-url', node.rpcUrl, '--rpc-user', 'nobody', '--rpc-password', 'hunter2-secret',
      '--address', REGTEST_ADDRESS, '--journal', join(dir, 'j2.jsonl'), '--connect-timeout', '5']);
    assert.equal(r.code, 2);
    assert.match(oneLine(r), /refused the RPC credentials .*--rpc-user\/--rpc-password/);
    assert.doesNotMatch(r.stderr + r.stdout, /hunter2-secret/);
  });

  it('a node on another chain: exit 2 naming both chains', async () => {
    const args = mineArgs(node, 'tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx', dir, ['--connect-timeout', '5']);
    args[args.indexOf('--network') + 1] = 'signet';
    const r = await runCli(['mine', ...args]);
    assert.equal(r.code, 2);
    assert.match(oneLine(r), /--network: the node at .* is on chain "regtest" \(regtest\), but the miner is set to signet/);
  });

  it('an address of another network: exit 2 naming the address and both networks', async () => {
    const r = await runCli(['mine', ...mineArgs(node, MAINNET_ADDRESS, dir)]);
    assert.equal(r.code, 2);
    assert.match(oneLine(r), /--address: .*mainnet address, expected regtest/);
  });

  it('an unwritable journal: exit 2 naming the file', async () => {
    const blocker = join(dir, 'not-a-folder');
    await writeFile(blocker, 'a file where a folder should be');
    const args = mineArgs(node, REGTEST_ADDRESS, dir);
    args[args.indexOf('--journal') + 1] = join(blocker, 'found-blocks.jsonl');
    const r = await runCli(['mine', ...args]);
    assert.equal(r.code, 2);
    assert.match(oneLine(r), /--journal: cannot write .*not-a-folder/);
  });

  it('a ZMQ endpoint the node does not publish on: exit 2 saying what to do', async () => {
    const [port] = await freePorts(1);
    const args = mineArgs(node, REGTEST_ADDRESS, dir);
    args[args.indexOf('--zmq') + 1] = `tcp://127.0.0.1:${port}`;
    const r = await runCli(['mine', ...args]);
    assert.equal(r.code, 2);
    assert.match(oneLine(r), /--zmq: the node publishes no hashblock notifications at tcp:\/\/127\.0\.0\.1:\d+ \(it publishes them at .*\); start it with -zmqpubhashblock/);
  });

  it('several nodes, one of them on another chain: exit 2 naming that node and both chains', async () => {
    const signet = await startPrivateSignet();
    try {
      const r = await runCli(['mine', ...mineArgs(node, REGTEST_ADDRESS, dir), '--node', `${signet.rpcUrl},cookie=${signet.cookiePath}`, '--connect-timeout', '5']);
      assert.equal(r.code, 2);
      assert.match(oneLine(r), new RegExp(`--network: the node at ${signet.rpcUrl.replace(/[.:/]/g, '\\$&')} is on chain "signet" \\(signet\\), but the miner is set to regtest`));
    } finally {
      await signet.stop();
    }
  });

  it('a node without ZMQ among nodes with it: one warning line at start-up, and it mines', async () => {
    const other = await startRegtest();
    try {
      const r = await runCli(['mine', ...mineArgs(node, REGTEST_ADDRESS, dir, ['--max-blocks', '1', '--threads', '1']), '--node', `${other.rpcUrl},cookie=${other.cookiePath}`]);
      assert.equal(r.code, 0, r.stderr);
      const warned = r.stderr.split('\n').filter((l) => /has no ZMQ endpoint while node 1 .* has one/.test(l));
      assert.equal(warned.length, 1, r.stderr);
      assert.match(warned[0]!, /node 2 \(http:\/\/127\.0\.0\.1:\d+\) has no ZMQ endpoint .*give it zmq=/);
    } finally {
      await other.stop();
    }
  });

  it('the same node twice: exit 2 naming both entries', async () => {
    const r = await runCli(['mine', ...mineArgs(node, REGTEST_ADDRESS, dir), '--node', `${node.rpcUrl}/,cookie=${node.cookiePath}`]);
    assert.equal(r.code, 2);
    assert.match(oneLine(r), /--node #1: names the same node as --rpc-url \(http:\/\/127\.0\.0\.1:\d+\/\); give each node once/);
  });

  it('a malformed value in the config file: exit 2 naming file and field', async () => {
    const cfgDir = join(dir, 'cfg');
    await mkdir(cfgDir, { recursive: true });
    await writeFile(join(cfgDir, 'bad.json'), JSON.stringify({ threads: 'many' }));
    const r = await runCli(['mine', ...mineArgs(node, REGTEST_ADDRESS, dir).filter((a) => a !== '--threads' && a !== '2'), '--config', join(cfgDir, 'bad.json')]);
    assert.equal(r.code, 2);
    assert.match(oneLine(r), /bad\.json threads: expected/);
  });
});
