// A block to every node at once, and blocks handed back to a node that forgot them, against a
// real journal file and fake nodes. The fakes are deliberate: one node accepting while another
// refuses, a node down for exactly the moment of a submission, and a node that lost exactly
// these blocks are made here on demand; the real nodes' faults are in test/mining/node-faults.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { NodeUnreachableError } from '../../src/node/errors.js';
import { aggregateAnswers, BlockSubmitter, type NodeAnswer } from '../../src/submit/block-submitter.js';
import { BlockRestorer, RESTORE_WINDOW_BLOCKS, type RestoreTarget } from '../../src/submit/block-restorer.js';
import { FoundBlockJournal, type FoundBlockRecord, type JournalRecord } from '../../src/submit/found-block-journal.js';
import { sampleFound, tempDir } from '../support/files.js';

/** A node that knows some blocks by hash and answers submitblock as told. */
class FakeNode implements RestoreTarget {
  readonly known = new Set<string>();
  readonly submitted: string[] = [];
  down = false;
  constructor(
    readonly name: string,
    private readonly answer: (hex: string) => string | null = () => null,
    /** Blocks by hex, to learn the hash of what was submitted. */
    private readonly byHex = new Map<string, FoundBlockRecord>(),
  ) {}
  /** Blocks this test knows of, by hash: a parent among them must be known to the node first. */
  private readonly byHash = new Set<string>();
  add(...records: FoundBlockRecord[]): void {
    for (const r of records) {
      this.byHex.set(r.blockHex, r);
      this.byHash.add(r.hash);
    }
  }
  submitBlock = async (hex: string): Promise<string | null> => {
    if (this.down) throw new NodeUnreachableError(this.name, 'ECONNREFUSED');
    this.submitted.push(hex);
    const r = this.byHex.get(hex);
    const parentKnown = r === undefined || this.known.has(r.previousblockhash) || !this.byHash.has(r.previousblockhash);
    if (!parentKnown) return 'prev-blk-not-found';
    const a = this.answer(hex);
    if (a === null && r) this.known.add(r.hash);
    return a;
  };
  blockInActiveChain = async (hash: string): Promise<boolean> => this.known.has(hash);
  isKnown = async (hash: string): Promise<boolean> => this.known.has(hash);
  header = async (hash: string) => (this.known.has(hash) ? { confirmations: 1 } : null);
  usable = (): boolean => !this.down;
}

async function withJournal(fn: (journal: FoundBlockJournal, records: () => Promise<JournalRecord[]>) => Promise<void>): Promise<void> {
  const { dir, cleanup } = await tempDir();
  const journal = await FoundBlockJournal.open(join(dir, 'found-blocks.jsonl'));
  try {
    await fn(journal, async () => (await journal.scan()).records);
  } finally {
    await journal.close();
    await cleanup();
  }
}

/** `n` of our blocks, each on the one before, the first on `root`. */
function chain(n: number, root = 'aa'.repeat(32), from = 1000): FoundBlockRecord[] {
  const out: FoundBlockRecord[] = [];
  let parent = root;
  for (let i = 0; i < n; i++) {
    const r = sampleFound({ height: from + i, previousblockhash: parent, coinbaseValue: 5e9, subsidy: 5e9, nodes: 1 });
    out.push(r);
    parent = r.hash;
  }
  return out;
}

const noSleep = { sleep: async () => undefined, random: () => 1 };

describe('aggregateAnswers: what the nodes\' answers make of a block', { timeout: 10_000 }, () => {
  const a = (node: string, outcome: NodeAnswer['outcome'], reason?: string): NodeAnswer => ({ node, outcome, attempts: 1, ...(reason !== undefined && { reason }) });
  const cases: Array<[string, NodeAnswer[], number, string, string | undefined]> = [
    ['one node accepted', [a('A', 'accepted')], 1, 'accepted', undefined],
    ['one node rejected: final', [a('A', 'rejected', 'high-hash')], 1, 'rejected', 'high-hash'],
    ['accepted by one, refused by the other: accepted, said so', [a('A', 'accepted'), a('B', 'rejected', 'bad-prevblk')], 2, 'accepted', 'but B rejected (bad-prevblk)'],
    ['rejected by one, the other not yet answered: not final', [a('A', 'rejected', 'x')], 2, 'unconfirmed', 'A rejected (x)'],
    ['held off the active chain by one, rejected by the other: duplicate', [a('A', 'duplicate', 'duplicate'), a('B', 'rejected', 'x')], 2, 'duplicate', 'A duplicate (duplicate); B rejected (x)'],
    ['inconclusive and unreachable: inconclusive', [a('A', 'inconclusive'), a('B', 'unconfirmed')], 2, 'inconclusive', 'A inconclusive; B unconfirmed'],
  ];
  for (const [what, answers, nodes, outcome, reason] of cases) {
    it(what, () => {
      assert.deepEqual(aggregateAnswers(answers, nodes), reason === undefined ? { outcome } : { outcome, reason });
    });
  }
});

describe('BlockSubmitter with several nodes', { timeout: 30_000 }, () => {
  it('every node gets the block at once; each answer is journaled; one acceptance settles the outcome', async () => {
    await withJournal(async (journal, records) => {
      const [found] = chain(1);
      const a = new FakeNode('http://a:8332');
      const b = new FakeNode('http://b:8332', () => 'bad-prevblk');
      for (const n of [a, b]) n.add(found!);
      const submitter = new BlockSubmitter({ journal, targets: [a, b], log: () => undefined, ...noSleep });
      const result = await submitter.submit(found!);
      assert.equal(result.outcome, 'accepted');
      const all = await result.allAnswered;
      assert.deepEqual(all.map((x) => [x.node, x.outcome]).sort(), [['http://a:8332', 'accepted'], ['http://b:8332', 'rejected']]);
      const lines = await records();
      assert.deepEqual(lines.filter((r) => r.type === 'answer').map((r) => (r.type === 'answer' ? [r.node, r.outcome] : [])).sort(), [['http://a:8332', 'accepted'], ['http://b:8332', 'rejected']]);
      const outcome = lines.find((r) => r.type === 'outcome');
      assert.equal(outcome?.type === 'outcome' && outcome.outcome, 'accepted');
      assert.deepEqual(a.submitted, [found!.blockHex]);
      assert.deepEqual(b.submitted, [found!.blockHex]);
    });
  });

  it('a node down while another accepts: its retries stop (its gate hands the block back on its return)', async () => {
    await withJournal(async (journal) => {
      const [found] = chain(1);
      const a = new FakeNode('http://a:8332');
      const b = new FakeNode('http://b:8332');
      a.add(found!);
      b.down = true;
      const submitter = new BlockSubmitter({ journal, targets: [a, b], log: () => undefined, ...noSleep });
      const result = await submitter.submit(found!);
      assert.equal(result.outcome, 'accepted');
      const down = (await result.allAnswered).find((x) => x.node === 'http://b:8332');
      assert.equal(down?.outcome, 'unconfirmed');
      assert.match(down?.reason ?? '', /handed back when it returns/);
    });
  });

  it('a node that lacks the parent gets the parents from the journal first, then takes the block', async () => {
    await withJournal(async (journal) => {
      const blocks = chain(4);
      const node = new FakeNode('http://a:8332');
      node.add(...blocks);
      for (const r of blocks.slice(0, 3)) await journal.appendFound(r);
      await journal.append(...blocks.slice(0, 3).map((r) => ({ type: 'outcome' as const, time: r.time, hash: r.hash, outcome: 'accepted' as const })));
      // The node forgot all three (a kill -9); the fourth is found now, on the third.
      let restorer: BlockRestorer | undefined;
      const submitter = new BlockSubmitter({ journal, targets: [node], handBackParents: (_target, f) => restorer!.handBackParents(node, f), log: () => undefined, ...noSleep });
      const restored: string[] = [];
      restorer = new BlockRestorer({ journal, submitter, network: 'regtest', log: () => undefined, restored: (hash, name) => restored.push(`${hash}@${name}`) });
      const result = await submitter.submit(blocks[3]!);
      assert.equal(result.outcome, 'accepted');
      // Parents oldest first, then the block again.
      assert.deepEqual(node.submitted, [blocks[3]!.blockHex, ...blocks.slice(0, 3).map((r) => r.blockHex), blocks[3]!.blockHex]);
      // The parents are restored blocks for the tracker, as at a gate (a kill -9 test met this path).
      assert.deepEqual(restored, blocks.slice(0, 3).map((r) => `${r.hash}@http://a:8332`));
    });
  });
});

describe('BlockRestorer: blocks a node forgot, handed back', { timeout: 30_000 }, () => {
  it('parents first, oldest first, each answer journaled as handed back; blocks it knows are not sent', async () => {
    await withJournal(async (journal, records) => {
      const blocks = chain(5);
      for (const r of blocks) await journal.appendFound(r);
      await journal.append(...blocks.map((r) => ({ type: 'outcome' as const, time: r.time, hash: r.hash, outcome: 'accepted' as const })));
      const node = new FakeNode('http://a:8332');
      node.add(...blocks);
      node.known.add(blocks[0]!.hash);
      node.known.add(blocks[1]!.hash);
      const submitter = new BlockSubmitter({ journal, targets: [node], log: () => undefined, ...noSleep });
      const logs: string[] = [];
      const restored: string[] = [];
      const restorer = new BlockRestorer({ journal, submitter, network: 'regtest', log: (_l, m) => logs.push(m), restored: (hash) => restored.push(hash) });
      const summary = await restorer.restore(node, 'it was restarted');
      assert.deepEqual(restored, blocks.slice(2).map((r) => r.hash));
      assert.deepEqual(summary.handedBack.map((h) => h.height), [blocks[2]!.height, blocks[3]!.height, blocks[4]!.height]);
      assert.deepEqual(node.submitted, blocks.slice(2).map((r) => r.blockHex));
      assert.ok(summary.handedBack.every((h) => h.answer.outcome === 'accepted'));
      const answers = (await records()).filter((r) => r.type === 'answer');
      assert.equal(answers.length, 3);
      assert.ok(answers.every((r) => r.type === 'answer' && r.handedBack === true));
      assert.ok(logs.some((l) => /had forgotten 3 of our blocks \(it was restarted\)/.test(l)), logs.join('\n'));
    });
  });

  it(`asks only about the last ${RESTORE_WINDOW_BLOCKS} heights, but follows parents as far back as the journal holds them`, async () => {
    await withJournal(async (journal) => {
      const blocks = chain(RESTORE_WINDOW_BLOCKS + 30);
      for (const r of blocks) await journal.appendFound(r);
      await journal.append(...blocks.map((r) => ({ type: 'outcome' as const, time: r.time, hash: r.hash, outcome: 'accepted' as const })));
      const node = new FakeNode('http://a:8332');
      node.add(...blocks);
      const asked: string[] = [];
      const target: RestoreTarget = { ...node, name: node.name, submitBlock: node.submitBlock, blockInActiveChain: node.blockInActiveChain, header: async (h) => (asked.push(h), node.header(h)) };
      const submitter = new BlockSubmitter({ journal, targets: [target], log: () => undefined, ...noSleep });
      const restorer = new BlockRestorer({ journal, submitter, network: 'regtest', log: () => undefined });
      const summary = await restorer.restore(target, 'first contact');
      // The whole chain came back (a node at height 0 on a chain that is all ours)...
      assert.equal(summary.handedBack.length, blocks.length);
      assert.deepEqual(node.submitted, blocks.map((r) => r.blockHex));
      // ...while only the window was asked about as candidates (plus the parents walked once).
      assert.equal(summary.checked, RESTORE_WINDOW_BLOCKS);
      assert.equal(new Set(asked).size, asked.length, 'each block asked about once');
    });
  });

  it('a refused block stops its children; a parent that is not ours stops the walk (the node syncs it from its peers)', async () => {
    await withJournal(async (journal) => {
      const blocks = chain(3);
      for (const r of blocks) await journal.appendFound(r);
      await journal.append(...blocks.map((r) => ({ type: 'outcome' as const, time: r.time, hash: r.hash, outcome: 'accepted' as const })));
      // The first one's parent is someone else's block the node also lost.
      const node = new FakeNode('http://a:8332');
      node.add(...blocks);
      node.add(sampleFound({ hash: blocks[0]!.previousblockhash }));
      const submitter = new BlockSubmitter({ journal, targets: [node], log: () => undefined, ...noSleep });
      const restorer = new BlockRestorer({ journal, submitter, network: 'regtest', log: () => undefined });
      const summary = await restorer.restore(node, 'first contact');
      assert.deepEqual(summary.handedBack.map((h) => [h.height, h.answer.outcome]), [[blocks[0]!.height, 'inconclusive']]);
      assert.match(summary.handedBack[0]!.answer.reason ?? '', /prev-blk-not-found/);
    });
  });
});
