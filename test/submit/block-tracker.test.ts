// BlockTracker against a fake chain and a real journal file. The fake is deliberate: reorgs of
// every shape, a node that stops answering mid-check and checks that overlap are made here on
// demand; the real node's reorgs (invalidateblock, reconsiderblock) are in test/mining/block-lifecycle.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { BlockTracker, foldJournal, MATURITY_CONFIRMATIONS, ORPHAN_WATCH_BLOCKS, rewardTotals, type BlockTransition, type ChainHeader } from '../../src/submit/block-tracker.js';
import { FoundBlockJournal, type FoundBlockRecord, type JournalRecord } from '../../src/submit/found-block-journal.js';
import { sampleFound, tempDir } from '../support/files.js';

const hash = () => randomBytes(32).toString('hex');

/** A chain of hashes by height (index = height), and blocks the node knows off it. */
class FakeChain {
  active: string[] = [hash()];
  readonly side = new Set<string>();
  headerCalls: string[] = [];
  hashAtCalls: number[] = [];
  fail: Error | undefined;
  /** Resolves header calls only when released (overlapping checks). */
  gate: Promise<void> | undefined;

  get tip() {
    return { hash: this.active.at(-1)!, height: this.active.length - 1 };
  }
  extend(n = 1, hashes: string[] = []): string[] {
    const added: string[] = [];
    for (let i = 0; i < n; i++) added.push(hashes[i] ?? hash());
    this.active.push(...added);
    return added;
  }
  /** Replaces the chain above `height` by `n` new blocks; the replaced ones stay known. */
  reorg(height: number, n: number): void {
    for (const h of this.active.splice(height + 1)) this.side.add(h);
    this.extend(n);
  }
  header = async (h: string): Promise<ChainHeader | null> => {
    this.headerCalls.push(h);
    await this.gate;
    if (this.fail) throw this.fail;
    const i = this.active.indexOf(h);
    if (i >= 0) return { confirmations: this.active.length - i, height: i, ...(i > 0 && { previousblockhash: this.active[i - 1]! }) };
    return this.side.has(h) ? { confirmations: -1, height: 0 } : null;
  };
  hashAt = async (height: number): Promise<string | null> => {
    this.hashAtCalls.push(height);
    if (this.fail) throw this.fail;
    return this.active[height] ?? null;
  };
}

interface Harness {
  chain: FakeChain;
  journal: FoundBlockJournal;
  tracker: BlockTracker;
  transitions: BlockTransition[];
  logs: string[];
  /** Records per journal write the tracker made. */
  writes: number[];
  records(): Promise<JournalRecord[]>;
  /** A block of ours at the next height, accepted by the node and now its tip. */
  mineOurs(): Promise<FoundBlockRecord>;
}

async function withTracker(fn: (h: Harness) => Promise<void>): Promise<void> {
  const { dir, cleanup } = await tempDir();
  const journal = await FoundBlockJournal.open(join(dir, 'found-blocks.jsonl'));
  const chain = new FakeChain();
  const transitions: BlockTransition[] = [];
  const logs: string[] = [];
  const writes: number[] = [];
  const counting = {
    append: (...records: JournalRecord[]) => {
      writes.push(records.length);
      return journal.append(...records);
    },
  };
  const tracker = new BlockTracker({ journal: counting, header: chain.header, hashAt: chain.hashAt, log: (level, msg) => logs.push(`${level} ${msg}`), network: 'regtest' });
  tracker.on('transition', (t) => transitions.push(t));
  const h: Harness = {
    chain,
    journal,
    tracker,
    transitions,
    logs,
    writes,
    records: async () => (await journal.scan()).records,
    mineOurs: async () => {
      const found = sampleFound({ height: chain.active.length, hash: hash(), previousblockhash: chain.tip.hash, coinbaseValue: 312_500_000, subsidy: 312_500_000, address: 'bcrt1qexample' });
      await journal.appendFound(found);
      tracker.found(found);
      chain.extend(1, [found.hash]);
      await journal.appendOutcome({ type: 'outcome', time: new Date().toISOString(), hash: found.hash, outcome: 'accepted' });
      tracker.submitted(found.hash, 'accepted');
      return found;
    },
  };
  try {
    await fn(h);
  } finally {
    await journal.close();
    await cleanup();
  }
}

describe('BlockTracker', { timeout: 60_000 }, () => {
  it('accepted → confirmed → mature at 100 confirmations, one header read per tip while the chain only grows', async () => {
    await withTracker(async (h) => {
      const ours = await h.mineOurs();
      await h.tracker.onTip(h.chain.tip);
      assert.deepEqual(h.transitions.map((t) => [t.from, t.to, t.block.confirmations]), [['accepted', 'confirmed', 1]]);
      assert.deepEqual(h.writes, [2], 'the status line and the tip line: one write, one fsync');
      h.chain.headerCalls.length = 0;
      // 98 more: 99 confirmations, still immature, and no status line per tip.
      for (let i = 0; i < MATURITY_CONFIRMATIONS - 2; i++) {
        h.chain.extend();
        await h.tracker.onTip(h.chain.tip);
      }
      assert.equal(h.transitions.length, 1);
      assert.equal(h.tracker.blocks()[0]!.confirmations, 99);
      assert.equal(h.tracker.totals().immature.sats, 312_500_000);
      // Only each new tip's own header was read: the block's place follows from it.
      assert.equal(h.chain.headerCalls.length, MATURITY_CONFIRMATIONS - 2);
      assert.ok(!h.chain.headerCalls.includes(ours.hash));
      h.chain.extend();
      await h.tracker.onTip(h.chain.tip);
      assert.deepEqual(h.transitions.map((t) => t.to), ['confirmed', 'mature']);
      const mature = h.tracker.blocks()[0]!;
      assert.equal(mature.confirmations, 100);
      assert.equal(mature.maturityHeight, ours.height + 99);
      assert.equal(h.tracker.totals().mature.sats, 312_500_000);
      assert.equal(h.tracker.totals().immature.blocks, 0);

      // The journal alone tells the same story: what `solominer blocks` shows with the miner stopped.
      const view = foldJournal(await h.records());
      assert.equal(view.blocks[0]!.status, 'mature');
      assert.equal(view.blocks[0]!.confirmations, 100);
      const statuses = (await h.records()).filter((r) => r.type === 'status').map((r) => r.type === 'status' && r.status);
      assert.deepEqual(statuses, ['confirmed', 'mature']);
      // A mature block is not asked about again.
      h.chain.headerCalls.length = 0;
      h.chain.reorg(h.chain.tip.height - 1, 2);
      await h.tracker.onTip(h.chain.tip);
      assert.deepEqual(h.chain.headerCalls, []);
    });
  });

  it('the confirmations of a block that only got deeper come from the tip lines of the journal', async () => {
    await withTracker(async (h) => {
      await h.mineOurs();
      await h.tracker.onTip(h.chain.tip);
      h.chain.extend(5);
      for (let i = 0; i < 5; i++) await h.tracker.onTip({ hash: h.chain.active[h.chain.active.length - 5 + i]!, height: h.chain.active.length - 5 + i });
      const view = foldJournal(await h.records());
      assert.equal(view.blocks[0]!.status, 'confirmed');
      assert.equal(view.blocks[0]!.confirmations, 6);
      assert.equal(view.tip?.height, h.chain.tip.height);
    });
  });

  it('orphaned by a reorg (a rival at its height), then back in the active chain when the reorg is undone', async () => {
    await withTracker(async (h) => {
      const ours = await h.mineOurs();
      h.chain.extend(1);
      await h.tracker.onTip(h.chain.tip);
      const ourChain = [...h.chain.active];
      // A longer rival branch from our block's parent.
      h.chain.reorg(ours.height - 1, 3);
      await h.tracker.onTip(h.chain.tip);
      assert.deepEqual(h.transitions.map((t) => t.to), ['confirmed', 'orphaned']);
      const orphaned = h.tracker.blocks()[0]!;
      assert.equal(orphaned.confirmations, -1);
      assert.match(orphaned.reason ?? '', /not in the active chain/);
      assert.deepEqual(rewardTotals(h.tracker.blocks()).orphaned, { blocks: 1, sats: 312_500_000 });
      assert.equal(h.tracker.totals().lost, 1);

      // Our branch wins again, and grows.
      for (const b of h.chain.active.slice(ours.height)) h.chain.side.add(b);
      h.chain.active = ourChain;
      h.chain.extend(2);
      await h.tracker.onTip(h.chain.tip);
      assert.deepEqual(h.transitions.map((t) => `${t.from}→${t.to}`), ['accepted→confirmed', 'confirmed→orphaned', 'orphaned→confirmed']);
      assert.equal(h.tracker.blocks()[0]!.confirmations, 4);
      assert.equal(h.tracker.totals().won, 1);
      const view = foldJournal(await h.records());
      assert.equal(view.blocks[0]!.status, 'confirmed');
    });
  });

  it('a block the node never knew is orphaned once another block holds its height', async () => {
    await withTracker(async (h) => {
      const lost = sampleFound({ height: 1, hash: hash(), previousblockhash: h.chain.tip.hash });
      await h.journal.appendFound(lost);
      h.tracker.found(lost);
      h.tracker.submitted(lost.hash, 'unconfirmed', 'the node did not answer');
      await h.tracker.onTip(h.chain.tip);
      assert.equal(h.transitions.length, 0, 'nothing at height 1 yet: still submitted');
      assert.equal(h.tracker.blocks()[0]!.status, 'submitted');
      h.chain.extend(1);
      await h.tracker.onTip(h.chain.tip);
      assert.deepEqual(h.transitions.map((t) => `${t.from}→${t.to}`), ['submitted→orphaned']);
      assert.match(h.transitions[0]!.block.reason!, /unknown to the node; block [0-9a-f]{64} holds height 1/);
      // The journal no longer lists it as pending: replay will not submit it again.
      assert.deepEqual((await h.journal.scan()).pending, []);
    });
  });

  it('an orphaned block is looked at on reorgs until the tip is 100 blocks past it', async () => {
    await withTracker(async (h) => {
      const ours = await h.mineOurs();
      h.chain.reorg(ours.height - 1, 2);
      await h.tracker.onTip(h.chain.tip);
      assert.equal(h.tracker.blocks()[0]!.status, 'orphaned');
      h.chain.reorg(h.chain.tip.height - 1, 2);
      h.chain.headerCalls.length = 0;
      await h.tracker.onTip(h.chain.tip);
      assert.ok(h.chain.headerCalls.includes(ours.hash), 'asked again after a reorg');
      h.chain.extend(ORPHAN_WATCH_BLOCKS);
      h.chain.reorg(h.chain.tip.height - 1, 2);
      h.chain.headerCalls.length = 0;
      await h.tracker.onTip(h.chain.tip);
      assert.ok(!h.chain.headerCalls.includes(ours.hash), 'not asked once 100 blocks deep');
    });
  });

  it('tips that arrive during a check are coalesced: the check after it uses the latest', async () => {
    await withTracker(async (h) => {
      await h.mineOurs();
      await h.tracker.onTip(h.chain.tip);
      let release: () => void = () => {};
      h.chain.gate = new Promise((r) => (release = r));
      h.chain.extend(1);
      const first = h.tracker.onTip(h.chain.tip);
      const seen: number[] = [];
      h.tracker.on('checked', (t) => seen.push(t.height));
      for (let i = 0; i < 5; i++) {
        h.chain.extend(1);
        void h.tracker.onTip(h.chain.tip);
      }
      h.chain.gate = undefined;
      release();
      await first;
      await h.tracker.idle();
      assert.deepEqual(seen, [h.chain.tip.height - 5, h.chain.tip.height]);
      assert.equal(h.tracker.blocks()[0]!.confirmations, 7);
    });
  });

  it('a node that stops answering: said once, the state kept, everything asked again once it answers', async () => {
    await withTracker(async (h) => {
      await h.mineOurs();
      await h.tracker.onTip(h.chain.tip);
      h.chain.fail = new Error('node at http://127.0.0.1:1 is unreachable (ECONNREFUSED)');
      h.chain.extend(1);
      await h.tracker.onTip(h.chain.tip);
      h.chain.extend(1);
      await h.tracker.onTip(h.chain.tip);
      assert.equal(h.logs.filter((l) => l.includes('could not check found blocks')).length, 1);
      assert.match(h.tracker.failure ?? '', /ECONNREFUSED/);
      assert.equal(h.tracker.blocks()[0]!.status, 'confirmed');
      h.chain.fail = undefined;
      h.chain.extend(1);
      h.chain.headerCalls.length = 0;
      await h.tracker.onTip(h.chain.tip);
      assert.equal(h.tracker.failure, undefined);
      assert.ok(h.logs.some((l) => /node answers again/.test(l)));
      assert.equal(h.tracker.blocks()[0]!.confirmations, 4);
    });
  });

  it('a journal that cannot be written: the transition is still announced, and the failure logged', async () => {
    await withTracker(async (h) => {
      await h.mineOurs();
      await h.journal.close();
      await h.tracker.onTip(h.chain.tip);
      assert.deepEqual(h.transitions.map((t) => t.to), ['confirmed']);
      assert.ok(h.logs.some((l) => /^error block tracker: could not journal/.test(l)), h.logs.join('\n'));
    });
  });

  it("catching up on a journal no tracker wrote to (an earlier version's): the first check's transitions are marked, later ones not", async () => {
    await withTracker(async (h) => {
      const old = sampleFound({ height: 1, hash: h.chain.extend(1)[0]! });
      h.chain.extend(120);
      const records: JournalRecord[] = [old, { type: 'outcome', time: old.time, hash: old.hash, outcome: 'accepted' }];
      const tracker = new BlockTracker({ journal: h.journal, header: h.chain.header, hashAt: h.chain.hashAt, log: (l, m) => h.logs.push(`${l} ${m}`), network: 'regtest' }).load(records);
      const seen: BlockTransition[] = [];
      tracker.on('transition', (t) => seen.push(t));
      await tracker.checkAll(h.chain.tip);
      assert.deepEqual(seen.map((t) => [t.from, t.to, t.catchUp]), [['accepted', 'mature', true]]);
      assert.ok(h.logs.some((l) => /1 block\(s\) of a journal written before block tracking brought up to date/.test(l)));
      // From then on, events are news.
      const ours = sampleFound({ height: h.chain.active.length, hash: hash() });
      tracker.found(ours);
      h.chain.extend(1, [ours.hash]);
      tracker.submitted(ours.hash, 'accepted');
      h.chain.reorg(ours.height - 1, 2);
      await tracker.onTip(h.chain.tip);
      assert.deepEqual(seen.slice(1).map((t) => [t.to, t.catchUp]), [['orphaned', undefined]]);
    });
  });

  it('follows only blocks of its network; a start-up check asks the node about each followed block', async () => {
    await withTracker(async (h) => {
      const other = sampleFound({ network: 'signet', height: 1 });
      const ours = sampleFound({ height: 1, hash: h.chain.extend(1)[0]! });
      const tracker = new BlockTracker({ journal: h.journal, header: h.chain.header, hashAt: h.chain.hashAt, log: () => {}, network: 'regtest' }).load([
        other,
        ours,
        { type: 'outcome', time: ours.time, hash: other.hash, outcome: 'accepted' },
        { type: 'outcome', time: ours.time, hash: ours.hash, outcome: 'accepted' },
      ]);
      await tracker.checkAll(h.chain.tip);
      assert.deepEqual(h.chain.headerCalls, [ours.hash]);
      assert.deepEqual(tracker.blocks().map((b) => [b.hash, b.status]), [[ours.hash, 'confirmed']]);
    });
  });
});
