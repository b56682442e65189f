// A pool for other people's miners only, with no operator address (`mine --engines none
// --stratum-port --sv2-port` and no --address: what the Umbrel app and the compose file start
// with), against a real regtest node over real TCP: a Stratum V1 and a Stratum V2 login that
// name an address mine blocks the node accepts, paying that address; a login that is not an
// address is refused on each wire (V1 error 24, V2 OpenMiningChannel.Error unknown-user) with a
// reason saying what to log in as; the start-up lines, /status and check say logins must be
// addresses; and everything else (--engines cpu, a smoke test) still requires --address.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { MessageType, type OpenMiningChannelError } from '../../src/stratum/v2/messages.js';
import { runCli } from '../support/cli.js';
import { mineArgs, scratchDir } from '../support/mining.js';
import { startPoolService } from '../support/pool.js';
import { blockAt, createWallet, newAddress, paidTo, startRegtest, type LocalNode } from '../support/regtest.js';
import { blockTarget, TestStratumClient } from '../support/stratum-client.js';
import { TestSv2Client } from '../support/sv2-client.js';

const REQUIRED = 'solominer mine: --address: required: the payout address (or SOLOMINER_ADDRESS, or config.json address)';

describe('a pool without an operator address on regtest', { timeout: 240_000 }, () => {
  let node: LocalNode;
  let v1Address: string;
  let v2Address: string;
  before(async () => {
    node = await startRegtest();
    await createWallet(node, 'no-operator');
    v1Address = await newAddress(node, 'no-operator', 'bech32');
    v2Address = await newAddress(node, 'no-operator', 'bech32m');
  });
  after(async () => {
    await node?.stop();
  });

  it('V1 and V2 logins with an address mine blocks paying it; a login that is not an address is refused on both wires', async () => {
    const p = await startPoolService(node, undefined, [], { ports: ['--stratum-port', '0', '--sv2-port', '0'] });
    let v1: TestStratumClient | undefined;
    let v2: TestSv2Client | undefined;
    try {
      assert.equal(p.recorder.status().pool?.login, 'address', '/status says logins must be addresses');

      // Stratum V1: a plain worker name is refused (error 24), the address login on the same connection works.
      v1 = await TestStratumClient.connect(p.port);
      const replies = await v1.startLikeCpuminer('rig7');
      assert.deepEqual(replies.at(-1)!.error, [24, 'rig7 is not a payout address on regtest: log in as <address>[.<worker>] (this pool has no operator address: the blocks a miner finds pay the address it logs in with)', null]);
      const ok = await v1.request('mining.authorize', [`${v1Address}.bitaxe`, 'x']);
      assert.equal(ok.result, true, JSON.stringify(ok));
      const job = v1.job ?? (await v1.nextNotify());
      const before = await node.rpc.call<number>('getblockcount');
      const extranonce2 = '00'.repeat(v1.extranonce2Size);
      const solved = v1.solve(job, extranonce2, blockTarget(job.nbits));
      assert.ok(solved, 'no regtest block within a million nonces');
      const accepted = await v1.submit(`${v1Address}.bitaxe`, job, extranonce2, solved.ntime, solved.nonce);
      assert.equal(accepted.result, true, JSON.stringify(accepted));
      await v1.nextNotify((n) => n.prevhash !== job.prevhash, 30_000);
      const v1Block = await blockAt(node, before + 1);
      assert.equal(v1Block.hash, solved.hash);
      assert.deepEqual(paidTo(v1Block).filter((o) => o.value > 0).map((o) => o.address), [v1Address], 'the whole reward to the login\'s address');

      // Stratum V2: a user identity that is not an address gets unknown-user; an address opens the channel.
      v2 = await TestSv2Client.connect(p.sv2!.port, { authorityKey: p.sv2!.authorityPublicKey });
      assert.equal((await v2.setup(0)).type, MessageType.SetupConnectionSuccess);
      const refused = (await v2.open('extended', 'rig8', { requestId: 1 })) as OpenMiningChannelError;
      assert.equal(refused.type, MessageType.OpenMiningChannelError);
      assert.equal(refused.errorCode, 'unknown-user');
      const firstLive = v2.nextLive();
      const open = await v2.open('extended', `${v2Address}.nerdqaxe`, { requestId: 2, minExtranonceSize: 2 });
      assert.equal(open.type, MessageType.OpenExtendedMiningChannelSuccess);
      const live = await firstLive;
      const height = await node.rpc.call<number>('getblockcount');
      const found = TestSv2Client.solve(live, blockTarget('207fffff'), { extranonce: Buffer.from('0000cafe', 'hex') });
      v2.submit(live, found, 0);
      const verdict = await v2.verdict(0);
      assert.equal(verdict.type, MessageType.SubmitSharesSuccess);
      await v2.nextLive(undefined, (j) => !j.prevHash.equals(live.prevHash), 30_000);
      const v2Block = await blockAt(node, height + 1);
      assert.equal(v2Block.hash, found.hash);
      assert.deepEqual(paidTo(v2Block).filter((o) => o.value > 0).map((o) => o.address), [v2Address]);

      // The refusals are counted as unauthorized, the workers are the two addresses.
      assert.equal(p.recorder.status().pool!.sharesRejected.unauthorized, 2);
      assert.deepEqual(p.pool.workers().map((w) => w.address).sort(), [v1Address, v2Address].sort());
    } finally {
      await v1?.close();
      await v2?.close();
    }
    const summary = await p.stop();
    assert.equal(summary.stats.outcomes.accepted, 2);
    const startLine = summary.lines.find((l) => l.startsWith('info mining regtest at height'));
    assert.match(startLine ?? '', /"payout":"none: every Stratum login must be a payout address \(<address>\[\.<worker>\]\)"/, summary.lines.join('\n'));
    for (const wire of ['Stratum pool on', 'Stratum V2 pool on']) {
      const line = summary.lines.find((l) => l.startsWith(`info ${wire} `));
      assert.match(line ?? '', /"login":"<address>\[\.<worker>\] only \(no operator address\)"/, wire);
    }
  });

  it('check passes the pool-only setup without an address; --engines cpu or a smoke test without one still exits 2 naming --address', async () => {
    const dir = await scratchDir('solominer-no-operator-');
    const poolOnly = [...mineArgs(node, undefined, dir), '--engines', 'none', '--stratum-port', '0'];
    const check = await runCli(['check', ...poolOnly]);
    assert.ok(check.stdout.split('\n').includes('ok   payout address: none: a pool for the miners only (--engines none), so every Stratum login must be a regtest payout address, <address>[.<worker>], which its blocks pay'), check.stdout);
    assert.equal(check.code, 0, check.stdout);

    for (const extra of [['--engines', 'cpu'], [], ['--engines', 'none', '--stratum-port', '0', '--smoke-test'], ['--engines', 'cpu', '--stratum-port', '0']]) {
      const r = await runCli(['mine', ...mineArgs(node, undefined, dir), ...extra], { timeoutMs: 60_000 });
      assert.equal(r.code, 2, `${extra.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim(), REQUIRED, extra.join(' '));
    }
  });
});
