// `solominer check` against a real regtest node: the CPU back end, the node's chain and the
// rest of the checklist; exit 1 on a blocking problem, with a fail line naming it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { cpuBackends } from '../../src/engines/cpu-engine.js';
import { freePorts } from '../../src/devnode/local-node.js';
import { runCli, type CliResult } from '../support/cli.js';
import { mineArgs, scratchDir } from '../support/mining.js';
import { createWallet, newAddress, startRegtest, type LocalNode } from '../support/regtest.js';

function lines(r: CliResult): string[] {
  return r.stdout.trimEnd().split('\n');
}

function withoutFlag(args: string[], flag: string): string[] {
  return args.filter((a, i, all) => a !== flag && all[i - 1] !== flag);
}

describe('check', { timeout: 300_000 }, () => {
  let node: LocalNode;
  let dir: string;
  let address: string;

  before(async () => {
    node = await startRegtest();
    await createWallet(node, 'check');
    address = await newAddress(node, 'check', 'bech32');
    dir = await scratchDir('solominer-check-');
  });
  after(async () => {
    await node?.stop();
  });

  it('reports the CPU back end, the node and its chain; exit 0', async () => {
    const r = await runCli(['check', ...mineArgs(node, address, dir)]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const out = lines(r);
    for (const l of out.slice(0, -1)) assert.match(l, /^(ok|warn|skip) {1,3}[a-z]/);
    const best = cpuBackends().find((b) => b.usable)!;
    // A checkout runs its own build from source (src/native/addon-loader.ts).
    assert.ok(out.some((l) => /^ok {3}native engine: built from source \(\/.+\/build\/Release\/solominer_native\.node\)$/.test(l)), r.stdout);
    assert.ok(out.some((l) => l.startsWith(`ok   cpu back end: ${best.description}`)), r.stdout);
    assert.ok(out.some((l) => /^ok {3}node: \/Satoshi:[^ ]+\/ \(version \d+\) at http:\/\/127\.0\.0\.1:\d+$/.test(l)), r.stdout);
    assert.ok(out.some((l) => /^ok {3}chain: regtest, height \d+, tip [0-9a-f]{64}$/.test(l)), r.stdout);
    assert.ok(out.some((l) => /^ok {3}zmq: the node publishes hashblock at /.test(l)), r.stdout);
    assert.ok(out.some((l) => l.startsWith(`ok   payout address: ${address} (p2wpkh) is a valid regtest address`)), r.stdout);
    assert.ok(out.some((l) => /^(ok|warn) {1,3}gpu: /.test(l)), r.stdout);
    assert.ok(out.some((l) => l === `ok   version rolling: on: BIP320 bits 1fffe000 when the template's version leaves them free; versions per scan cpu/${best.name} ${best.versions}`), r.stdout);
    assert.match(out.at(-1)!, /^check: passed/);
  });

  it('--no-version-rolling: check says rolling is off', async () => {
    const r = await runCli(['check', ...mineArgs(node, address, dir), '--no-version-rolling']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.ok(lines(r).includes('ok   version rolling: off (--no-version-rolling): every engine hashes one version per nonce'), r.stdout);
  });

  it('without a payout address: the rest is still checked, the address is a fail, exit 1', async () => {
    const r = await runCli(['check', ...withoutFlag(mineArgs(node, address, dir), '--address')]);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    const out = lines(r);
    assert.ok(out.some((l) => /^ok {3}chain: regtest/.test(l)), r.stdout);
    assert.deepEqual(out.filter((l) => l.startsWith('fail ')), ['fail payout address: not set (--address, SOLOMINER_ADDRESS or address in the config file)']);
    assert.match(out.at(-1)!, /^check: FAILED \(1 fail: payout address/);
  });

  it('a node on another chain: a fail naming both chains, exit 1', async () => {
    const args = mineArgs(node, 'tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx', dir);
    args[args.indexOf('--network') + 1] = 'signet';
    const r = await runCli(['check', ...args]);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.deepEqual(
      lines(r).filter((l) => l.startsWith('fail ')),
      ['fail chain: the node is on chain "regtest" (regtest), but the miner is set to signet (--network)'],
    );
  });

  it('an unreachable node: a fail naming the URL, exit 1, the password never shown', async () => {
    const [port] = await freePorts(1);
    const args = withoutFlag(withoutFlag(mineArgs(node, address, dir), '--rpc-cookie'), '--rpc-url');
    const r = await runCli(['check', ...args, '--rpc-url', `http://127.0.0.1:${port}`, '--rpc-user', 'u', '--rpc-password', 'hunter2-secret', '--connect-timeout', '1']);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    const fails = lines(r).filter((l) => l.startsWith('fail '));
    assert.equal(fails.length, 1, r.stdout);
    assert.match(fails[0]!, new RegExp(`^fail node: node at http://127\\.0\\.0\\.1:${port} is unreachable .*gave up after 1 s`));
    assert.ok(lines(r).some((l) => /^skip chain: the node was not reached/.test(l)), r.stdout);
    assert.doesNotMatch(r.stdout + r.stderr, /hunter2-secret/);
  });

  it('a Stratum pool: its ports, and for Stratum V2 the host, port, authority key and URL (the key made once)', async () => {
    const [v1, v2] = await freePorts(2);
    const own = await scratchDir('solominer-check-sv2-');
    const args = ['check', ...withoutFlag(withoutFlag(mineArgs(node, address, own), '--journal'), '--report-dir'), '--report-dir', own, '--stratum-port', String(v1), '--sv2-port', String(v2)];
    const first = await runCli(args);
    assert.equal(first.code, 0, `${first.stdout}\n${first.stderr}`);
    assert.ok(lines(first).some((l) => l === `ok   stratum v1: 127.0.0.1:${v1} is free: miners use stratum+tcp://127.0.0.1:${v1}`), first.stdout);
    const line = lines(first).find((l) => l.startsWith('ok   stratum v2: '))!;
    const m = new RegExp(`^ok {3}stratum v2: 127\\.0\\.0\\.1:${v2} is free: miners use host 127\\.0\\.0\\.1, port ${v2}, authority key ([1-9A-HJ-NP-Za-km-z]{51}) \\(generated now and kept in .*stratum-v2-authority-key\\.json\\), or stratum2\\+tcp://127\\.0\\.0\\.1:${v2}/\\1$`).exec(line);
    assert.ok(m, line);
    const again = await runCli(args);
    assert.ok(lines(again).some((l) => l === `ok   stratum v2: 127.0.0.1:${v2} is free: miners use host 127.0.0.1, port ${v2}, authority key ${m[1]}, or stratum2+tcp://127.0.0.1:${v2}/${m[1]}`), again.stdout);
    assert.doesNotMatch(first.stdout + again.stdout, /secret/);
  });

  it('several nodes: each checked under its own name; one out of reach among them is a warn, not a fail', async () => {
    const [port] = await freePorts(1);
    const r = await runCli(['check', ...mineArgs(node, address, dir), '--node', `http://127.0.0.1:${port},cookie=${node.cookiePath}`, '--connect-timeout', '1']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const out = lines(r);
    assert.ok(out.some((l) => /^ok {3}node 1: \/Satoshi:[^ ]+\/ .* at http:\/\/127\.0\.0\.1:\d+$/.test(l)), r.stdout);
    assert.ok(out.some((l) => /^ok {3}node 1 chain: regtest, height \d+/.test(l)), r.stdout);
    assert.ok(out.some((l) => /^ok {3}node 1 zmq: the node publishes hashblock/.test(l)), r.stdout);
    assert.ok(out.some((l) => new RegExp(`^warn node 2: node at http://127\\.0\\.0\\.1:${port} is unreachable .*; mine goes on from the other nodes`).test(l)), r.stdout);
    // The second node has no ZMQ while the first has: said on its line.
    assert.ok(out.some((l) => /^skip node 2 zmq: the node was not reached/.test(l)), r.stdout);
  });

  it('bad usage exits 2 with one line', async () => {
    const r = await runCli(['check', '--threads', 'many']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^solominer check: --threads: expected an integer/);
  });
});
