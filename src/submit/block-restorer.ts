// Hands a node back the blocks it forgot. A node killed with kill -9 (a power cut, the OOM
// killer) loses the blocks it accepted but had not flushed; one that crashed before relaying our
// block took it with it. The journal holds every found block in full, so the miner gives them
// back — parents first, oldest first — before any new work is mined on that node (the node set's
// gate, src/node/node-link.ts), and whenever a block turns out unknown to the node it follows or
// a node answers that it lacks a block's parent. Each answer is journaled (an `answer` line
// marked handedBack). Such a block is restored, not orphaned.
//
// The look-back is bounded: the blocks of the last 100 heights (the maturity window) are asked
// about. A block with 100 confirmations had 100 blocks built on it: a node that lost it lost
// those too and gets all of them back from its peers, who hold that chain; only the recent ones
// may exist nowhere but in our journal (found, accepted and lost before they were relayed). It
// also keeps the cost of a reconnection bounded: at most ~100 getblockheader calls, each a
// millisecond on a local node. Parents are still followed as far back as the journal holds them,
// whatever their age: on a private chain whose every block is ours, a node that came back at
// height 0 gets its whole chain back.
import { MATURITY_CONFIRMATIONS, foldJournal, type BlockStatus } from './block-tracker.js';
import { MISSING_PARENT, type BlockSubmitter, type Logger, type NodeAnswer, type SubmitTarget } from './block-submitter.js';
import type { FoundBlockJournal, FoundBlockRecord } from './found-block-journal.js';

/** Heights below the highest known tip whose blocks are asked about at a reconnection. */
export const RESTORE_WINDOW_BLOCKS = MATURITY_CONFIRMATIONS;

/** A node blocks can be handed back to. */
export interface RestoreTarget extends SubmitTarget {
  /** getblockheader: null when the node does not know the block. */
  readonly header: (hash: string) => Promise<{ readonly confirmations: number } | null>;
}

export interface RestorerDeps {
  readonly journal: Pick<FoundBlockJournal, 'scan'>;
  readonly submitter: Pick<BlockSubmitter, 'handTo'>;
  /** Only blocks of this network. */
  readonly network: string;
  readonly log: Logger;
  /** The highest tip height known (other nodes, the journal): the window ends there. */
  readonly tipHint?: () => number | null;
  /**
   * A block the node took when handed back at its gate or as a parent it lacked: the block
   * tracker says it is restored at its next check (its own hand-backs it places itself).
   */
  readonly restored?: (hash: string, node: string) => void;
}

export interface HandedBack {
  readonly hash: string;
  readonly height: number;
  readonly answer: NodeAnswer;
}

export interface RestoreSummary {
  /** Blocks of the window asked about. */
  readonly checked: number;
  /** Every block handed back, oldest first, with the node's answer. */
  readonly handedBack: readonly HandedBack[];
}

/** Statuses of blocks a node should hold: those it accepted, or was given and did not judge. */
const RESTORABLE: ReadonlySet<BlockStatus> = new Set<BlockStatus>(['accepted', 'confirmed', 'mature', 'submitted']);

/** The journal's found blocks of one network, first record per hash. */
function foundBlocks(records: readonly { type: string }[], network: string): Map<string, FoundBlockRecord> {
  const map = new Map<string, FoundBlockRecord>();
  for (const r of records) {
    if (r.type !== 'found') continue;
    const f = r as FoundBlockRecord;
    const key = f.hash.toLowerCase();
    if (f.network === network && !map.has(key)) map.set(key, f);
  }
  return map;
}

export class BlockRestorer {
  /** One hand-back at a time per node: a second one (a submission that met a missing parent while
   * the gate restores the node) then finds the blocks the first gave, and gives none twice. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: RestorerDeps) {}

  private serial<T>(node: string, task: () => Promise<T>): Promise<T> {
    const run = (this.queues.get(node) ?? Promise.resolve()).then(task, task);
    this.queues.set(node, run.catch(() => undefined));
    return run;
  }

  /**
   * At a (re)connection: every journaled block of the window that `target` does not know is
   * handed back, with its unknown ancestors first. Throws when the node cannot be reached (the
   * caller tries again at its next connection).
   */
  restore(target: RestoreTarget, why: string): Promise<RestoreSummary> {
    return this.serial(target.name, () => this.restoreNow(target, why));
  }

  private async restoreNow(target: RestoreTarget, why: string): Promise<RestoreSummary> {
    const { records } = await this.deps.journal.scan();
    const found = foundBlocks(records, this.deps.network);
    if (found.size === 0) return { checked: 0, handedBack: [] };
    const view = foldJournal(records);
    const highest = Math.max(this.deps.tipHint?.() ?? 0, view.tip?.height ?? 0, ...[...found.values()].map((f) => f.height));
    const candidates = view.blocks
      .filter((b) => b.network === this.deps.network && RESTORABLE.has(b.status) && b.height > highest - RESTORE_WINDOW_BLOCKS)
      .sort((a, b) => a.height - b.height);
    const known = this.memo(target);
    const handedBack: HandedBack[] = [];
    for (const b of candidates) {
      if (await known(b.hash)) continue;
      await this.giveWithParents(target, found.get(b.hash)!, found, known, handedBack);
    }
    this.tellRestored(target, handedBack);
    if (handedBack.length > 0) {
      const accepted = handedBack.filter((h) => h.answer.outcome === 'accepted').length;
      this.deps.log('warn', `${target.name} had forgotten ${handedBack.length} of our blocks (${why}); handed them back from the journal: ${accepted} accepted`, {
        node: target.name,
        heights: `${handedBack[0]!.height}..${handedBack.at(-1)!.height}`,
      });
    }
    return { checked: candidates.length, handedBack };
  }

  /**
   * The node lacks the parent of `found`: its ancestors in the journal that the node does not
   * know, handed back oldest first. True when the node took them (the block is worth a retry).
   */
  handBackParents(target: RestoreTarget, found: FoundBlockRecord): Promise<boolean> {
    return this.serial(target.name, () => this.handBackParentsNow(target, found));
  }

  private async handBackParentsNow(target: RestoreTarget, found: FoundBlockRecord): Promise<boolean> {
    const { records } = await this.deps.journal.scan();
    const blocks = foundBlocks(records, this.deps.network);
    const parent = blocks.get(found.previousblockhash.toLowerCase());
    if (parent === undefined) return false;
    const known = this.memo(target);
    // Given meanwhile (the node's gate ran first): one more try of the block is worth it.
    if (await known(parent.hash)) return true;
    const handedBack: HandedBack[] = [];
    await this.giveWithParents(target, parent, blocks, known, handedBack);
    this.tellRestored(target, handedBack);
    const last = handedBack.at(-1);
    if (handedBack.length > 0) {
      this.deps.log('warn', `${target.name} lacked the parents of block ${found.height}; handed ${handedBack.length} back from the journal`, { node: target.name, hash: found.hash });
    }
    return last !== undefined && last.answer.outcome !== 'rejected' && last.answer.outcome !== 'stale' && !isMissingParent(last.answer);
  }

  /** One block the node does not know (the tracker found it so): it and its unknown ancestors. */
  handBack(target: RestoreTarget, hash: string): Promise<NodeAnswer | undefined> {
    return this.serial(target.name, () => this.handBackNow(target, hash));
  }

  private async handBackNow(target: RestoreTarget, hash: string): Promise<NodeAnswer | undefined> {
    const { records } = await this.deps.journal.scan();
    const blocks = foundBlocks(records, this.deps.network);
    const record = blocks.get(hash.toLowerCase());
    if (record === undefined) return undefined;
    const handedBack: HandedBack[] = [];
    await this.giveWithParents(target, record, blocks, this.memo(target), handedBack);
    if (handedBack.length > 1) this.deps.log('warn', `${target.name} had forgotten block ${record.height} and ${handedBack.length - 1} of its parents; handed them back from the journal`, { node: target.name });
    return handedBack.find((h) => h.hash === record.hash.toLowerCase())?.answer;
  }

  private tellRestored(target: RestoreTarget, handedBack: readonly HandedBack[]): void {
    for (const h of handedBack) if (h.answer.outcome === 'accepted') this.deps.restored?.(h.hash, target.name);
  }

  /** getblockheader per hash, asked once per run; a block handed back is known from then on. */
  private memo(target: RestoreTarget): Known {
    const seen = new Map<string, boolean>();
    const known = (async (hash: string) => {
      const key = hash.toLowerCase();
      let is = seen.get(key);
      if (is === undefined) {
        is = (await target.header(key)) !== null;
        seen.set(key, is);
      }
      return is;
    }) as Known;
    known.given = (hash) => seen.set(hash.toLowerCase(), true);
    known.refused = new Set();
    return known;
  }

  /** `record` and every journaled ancestor the node lacks, oldest first; stops at a refusal. */
  private async giveWithParents(
    target: RestoreTarget,
    record: FoundBlockRecord,
    blocks: Map<string, FoundBlockRecord>,
    known: Known,
    out: HandedBack[],
  ): Promise<void> {
    const chain = [record];
    for (let p = blocks.get(record.previousblockhash.toLowerCase()); p !== undefined && !(await known(p.hash)); p = blocks.get(p.previousblockhash.toLowerCase())) {
      chain.push(p);
    }
    chain.reverse();
    // An ancestor refused earlier in this run: its descendants would be refused the same way.
    if (chain.some((r) => known.refused.has(r.hash.toLowerCase()))) {
      for (const r of chain) known.refused.add(r.hash.toLowerCase());
      return;
    }
    for (const [i, r] of chain.entries()) {
      const answer = await this.deps.submitter.handTo(target, r);
      out.push({ hash: r.hash.toLowerCase(), height: r.height, answer });
      // The node now knows it (on its chain or beside it), unless it refused it.
      const refused = answer.outcome === 'rejected' || answer.outcome === 'stale' || isMissingParent(answer);
      if (!refused) {
        known.given(r.hash);
        continue;
      }
      // Its children cannot follow: they would be refused for the same reason.
      for (const rest of chain.slice(i)) known.refused.add(rest.hash.toLowerCase());
      this.deps.log('warn', `${target.name} refused block ${r.height} handed back from the journal (${answer.reason ?? answer.outcome})`, { node: target.name, hash: r.hash });
      return;
    }
  }
}

/** Whether the node knows a block (asked once); `given` records one handed to it since. */
type Known = ((hash: string) => Promise<boolean>) & { given: (hash: string) => void; refused: Set<string> };

function isMissingParent(a: NodeAnswer): boolean {
  return a.reason?.startsWith(MISSING_PARENT) === true;
}
