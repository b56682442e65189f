// Vardiff on an injected clock, the rules of who a login mines for, and the best-share file
// kept across restarts (torn last line included).
import assert from 'node:assert/strict';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { authorize } from '../../src/stratum/authorize.js';
import { BestShareStore } from '../../src/stratum/best-shares.js';
import { nearestPowerOfTwo, Vardiff } from '../../src/stratum/vardiff.js';
import { tempDir } from '../support/files.js';

const OPTIONS = { targetSeconds: 10, minDifficulty: 0.00001, maxDifficulty: () => 1e12 };

/** A miner of `rate` difficulty-1 shares per second, replayed against vardiff for `seconds`. */
function simulate(v: Vardiff, hashesPerSecond: number, seconds: number, start = 0): number {
  let t = start;
  let next: number | undefined;
  const end = start + seconds * 1000;
  while (t < end) {
    // Shares arrive at the rate the current difficulty implies for this hash rate.
    const perSecond = hashesPerSecond / (v.difficulty * 2 ** 32);
    t += 1000 / perSecond;
    next = v.onShare(v.difficulty, t) ?? next;
  }
  return t;
}

describe('vardiff', { timeout: 30_000 }, () => {
  it('converges to about one share per 10 s, in powers of two, from far below and far above', () => {
    const bitaxe = 500e9; // 500 GH/s: ~1164 difficulty for a share per 10 s
    for (const start of [1, 1e7]) {
      const v = new Vardiff(start, OPTIONS, 0);
      simulate(v, bitaxe, 3600);
      assert.equal(Math.log2(v.difficulty) % 1, 0, 'a power of two');
      assert.ok(v.difficulty >= 1164 / 2 && v.difficulty <= 1164 * 2, `start ${start}: ${v.difficulty}`);
    }
  });

  it('gives a CPU miner a fractional difficulty, and never goes under the floor', () => {
    const v = new Vardiff(1, OPTIONS, 0);
    simulate(v, 5e6, 3600); // 5 MH/s: ~0.012 for a share per 10 s
    assert.ok(v.difficulty < 0.05 && v.difficulty > 0.003, String(v.difficulty));
    const tiny = new Vardiff(1, OPTIONS, 0);
    simulate(tiny, 1, 600);
    assert.ok(tiny.difficulty >= OPTIONS.minDifficulty);
  });

  it('never above the network difficulty (regtest), and follows it down', () => {
    let network = 4.6e-10;
    const v = new Vardiff(512, { ...OPTIONS, maxDifficulty: () => network }, 0);
    assert.equal(v.difficulty, network);
    network = 1e-12;
    assert.equal(v.difficultyNow(1000), 1e-12);
  });

  it('halves a silent connection after three aims of silence; a steady miner stays put (dead band)', () => {
    const v = new Vardiff(64, OPTIONS, 0);
    assert.equal(v.onTick(29_000), undefined);
    assert.equal(v.onTick(30_000), 32);
    const steady = new Vardiff(1024, OPTIONS, 0);
    let t = 0;
    for (let i = 0; i < 100; i++) {
      t += 10_000 * (0.8 + 0.4 * (i % 2)); // 8 s, 12 s, 8 s, ...
      assert.equal(steady.onShare(1024, t), undefined, `share ${i}`);
    }
    assert.equal(nearestPowerOfTwo(1164), 1024);
    assert.equal(nearestPowerOfTwo(0.012), 2 ** -6);
  });
});

describe('who a login mines for', { timeout: 30_000 }, () => {
  const base = { network: 'regtest' as const, operatorAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080' };
  const own = 'bcrt1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qzf4jry';

  it('<address>.<worker>: paid to the address; a plain name: the operator is paid', () => {
    const a = authorize(`${own}.rig1.left`, 'x', base);
    assert.ok(a.ok);
    assert.equal(a.worker.address, own);
    assert.equal(a.worker.worker, 'rig1.left');
    assert.equal(a.worker.ownAddress, true);
    const b = authorize('rig9', undefined, base);
    assert.ok(b.ok);
    assert.equal(b.worker.address, base.operatorAddress);
    assert.equal(b.worker.worker, 'rig9');
  });

  it('no operator address (a pool whose logins pay themselves): an address login is paid; any other name is refused, saying what to log in as', () => {
    const noOperator = { network: 'regtest' as const, operatorAddress: undefined };
    const a = authorize(`${own}.rig1`, 'x', noOperator);
    assert.ok(a.ok);
    assert.equal(a.worker.address, own);
    assert.equal(a.worker.worker, 'rig1');
    const hint = 'log in as <address>[.<worker>] (this pool has no operator address: the blocks a miner finds pay the address it logs in with)';
    for (const [user, head] of [['rig9', 'rig9'], ['.rig9', 'an empty name'], ['rig9.left', 'rig9']]) {
      assert.deepEqual(authorize(user!, 'x', noOperator), { ok: false, message: `${head} is not a payout address on regtest: ${hint}` }, user);
    }
    // The other refusals are as with an operator.
    assert.deepEqual(authorize('tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx', 'x', noOperator), { ok: false, message: 'tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx is not a payout address on regtest' });
  });

  it('refuses with a reason: wrong password, an address not allowed, an address of another network, odd names', () => {
    const cases: Array<[string, unknown, Record<string, unknown>, string]> = [
      ['rig', 'nope', { password: 'sesame' }, 'wrong password'],
      [own, 'x', { allowedAddresses: ['bcrt1qsomethingelse'] }, `${own} is not among the addresses this pool pays (--stratum-addresses)`],
      ['tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx.w', 'x', {}, 'tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx is not a payout address on regtest'],
      ['has space', 'x', {}, 'user name: expected no spaces, quotes or control characters'],
      ['x'.repeat(200), 'x', {}, 'user name: expected at most 128 characters'],
    ];
    for (const [user, pass, extra, message] of cases) {
      const v = authorize(user, pass, { ...base, ...extra });
      assert.deepEqual(v, { ok: false, message }, user);
    }
  });
});

describe('best shares kept across restarts', { timeout: 30_000 }, () => {
  it('keeps the best per worker, survives a torn last line, appends only on a new best', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const path = join(dir, 'best.jsonl');
      const warnings: string[] = [];
      const a = await BestShareStore.open(path, (m) => warnings.push(m));
      assert.equal(a.offer('w1', 10), true);
      assert.equal(a.offer('w1', 5), false);
      assert.equal(a.offer('w1', 12.5), true);
      assert.equal(a.offer('w2', 3), true);
      await a.close();
      assert.equal((await readFile(path, 'utf8')).trim().split('\n').length, 3);
      await appendFile(path, '{"worker":"w1","difficulty":99'); // a crash in the middle of a write
      const b = await BestShareStore.open(path, (m) => warnings.push(m));
      assert.equal(b.get('w1'), 12.5);
      assert.equal(b.get('w2'), 3);
      assert.equal(b.offer('w2', 4), true);
      await b.close();
      const c = await BestShareStore.open(path, (m) => warnings.push(m));
      assert.equal(c.get('w2'), 4, 'the line after the torn one starts clean');
      await c.close();
      assert.deepEqual(warnings, []);
      await writeFile(join(dir, 'dir.jsonl'), '');
    } finally {
      await cleanup();
    }
  });
});
