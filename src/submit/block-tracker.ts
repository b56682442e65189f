// What became of every found block after the node answered: followed on the chain until its
// reward matures (100 confirmations) or it is orphaned, and back again if a reorg restores it.
//
// Lifecycle: found → submitted → accepted | rejected (the submitter's records), then, while the
// node is watched, confirmed (n) → mature, or orphaned (getblockheader says -1 confirmations: the
// node holds another chain with more work at its height) — and orphaned → confirmed when a reorg
// brings it back. A block the node does not know at all (it forgot it in a crash) is handed back
// from the journal (block-restorer.ts) and judged on the node's answer: back in the active chain
// it is restored, not orphaned; orphaned only when the node puts it beside a chain with more work
// or refuses it.
//
// Cheap by construction: the service calls onTip() on each new tip (the template source's own
// ZMQ or longpoll notice, no polling here); when the new tip extends the previous one, every block
// seen at the previous tip keeps its place and only the tip's header is read; any other change
// (a reorg, a gap, start-up) asks getblockheader once per followed block. Each status change is
// appended to the found-blocks journal (fsynced) before it is announced; the confirmations of
// blocks that merely got deeper are carried by one `tip` line per new tip.
//
// The node is reached only through injected functions, as in block-submitter.ts.
import { EventEmitter } from 'node:events';

import { NETWORKS, type Network } from '../bitcoin/address.js';
import { coinbaseOutputs } from '../bitcoin/block.js';
import { scriptToAddress } from '../bitcoin/address.js';
import { blockSubsidy, type BlockReward } from '../bitcoin/subsidy.js';
import type { Logger } from './block-submitter.js';
import type { ChainStatus, FoundBlockJournal, FoundBlockRecord, JournalRecord, Outcome, StatusRecord } from './found-block-journal.js';

export type BlockStatus = 'found' | 'submitted' | 'accepted' | 'rejected' | ChainStatus;

/** Confirmations at which a coinbase can be spent in the next block (consensus COINBASE_MATURITY). */
export const MATURITY_CONFIRMATIONS = 100;
/**
 * An orphaned block is looked at again on reorgs until the tip is this many blocks past its
 * height; a reorg deeper than that does not happen, and the list of blocks to ask about stays short.
 */
export const ORPHAN_WATCH_BLOCKS = 100;

/** Which configured nodes hold a block (a `propagation` line of the journal). */
export interface KnownTo {
  /** RPC URLs of the configured nodes that have it. */
  readonly nodes: readonly string[];
  /** Configured nodes in all. */
  readonly of: number;
  /** Peers of those nodes the block was sent to (null when not known). */
  readonly peers: number | null;
}

export interface TrackedBlock extends BlockReward, Pick<FoundBlockRecord, 'hash' | 'height' | 'network' | 'engine' | 'backend' | 'worker'> {
  /** When the block was solved (ISO 8601). */
  readonly foundAt: string;
  readonly status: BlockStatus;
  /** When the block entered its status (ISO 8601). */
  readonly statusAt: string;
  /** In the active chain: 1 at the tip, more below; -1 orphaned; null not known (yet). */
  readonly confirmations: number | null;
  /** Tip height at which it has 100 confirmations: its coinbase can be spent in the block after. */
  readonly maturityHeight: number;
  /** Height of the tip its confirmations were counted at. */
  readonly tipHeight: number | null;
  readonly reason?: string;
  /** Which configured nodes hold it, as last recorded. */
  readonly knownTo?: KnownTo;
  /** Each node's last answer (RPC URL → outcome), as journaled. */
  readonly answers?: Readonly<Record<string, Outcome>>;
}

export interface Tip {
  readonly hash: string;
  readonly height: number;
}

/** A tip as the journal last recorded it. */
export interface JournalTip extends Tip {
  readonly time: string;
}

export interface JournalView {
  /** One per found block, in the order they were found. */
  readonly blocks: TrackedBlock[];
  /** The last tip the miner checked its blocks at (null: never). */
  readonly tip: JournalTip | null;
}

export interface BlockTransition {
  readonly block: TrackedBlock;
  readonly from: BlockStatus;
  readonly to: BlockStatus;
  /**
   * Found by the first check of a block an earlier version found (before block tracking, so
   * the journal says nothing of its fate): old news, journaled and logged but not announced.
   */
  readonly catchUp?: boolean;
  /** Back in the active chain because it was handed back to a node that had forgotten it. */
  readonly restored?: boolean;
}

export interface ChainHeader {
  /** As getblockheader: ≥ 1 in the active chain, -1 not in it. */
  readonly confirmations: number;
  readonly height: number;
  readonly previousblockhash?: string;
}

export interface BlockTrackerDeps {
  readonly journal: Pick<FoundBlockJournal, 'append'>;
  /** getblockheader; null when the node does not know the block. */
  readonly header: (hash: string) => Promise<ChainHeader | null>;
  /** getblockhash; null when the active chain is shorter than `height`. */
  readonly hashAt: (height: number) => Promise<string | null>;
  readonly log: Logger;
  /** Only blocks of this network are followed (a journal may hold several). */
  readonly network: string;
  readonly now?: () => number;
  /** Refresh without writing (`solominer blocks`): nothing is appended to the journal. */
  readonly readOnly?: boolean;
  /**
   * Hands a block the node does not know back to it from the journal, with its unknown parents
   * (block-restorer.ts); undefined when the journal cannot (the block is not in it). Absent (a
   * read-only refresh): a block unknown to the node is judged by what holds its height.
   */
  readonly handBack?: (hash: string) => Promise<{ readonly outcome: Outcome; readonly reason?: string } | undefined>;
}

export interface TrackerEvents {
  /** A block changed status; the journal holds the change when this is emitted. */
  transition: [BlockTransition];
  /** A check at this tip is done. */
  checked: [Tip];
}

/** A status change found during a check: journaled, then announced. */
interface Change {
  readonly record: StatusRecord;
  readonly transition: BlockTransition;
}

type Entry = { -readonly [K in keyof TrackedBlock]: TrackedBlock[K] } & {
  /** The tip at which its place on the chain was last established. */
  verifiedAt?: string;
  /**
   * Found by a version before block tracking (its found line has no reward fields) and not yet
   * checked since: what its first check finds is old news.
   */
  legacy?: boolean;
  /** Handed back to this node (its RPC URL), which had forgotten it: said as restored at its next check. */
  handedBackTo?: string;
};

/** The status a block has after the submitter's outcome (announcements.ts reads the journal the same way). */
export const OUTCOME_STATUS: Readonly<Record<Outcome, BlockStatus>> = {
  accepted: 'accepted',
  rejected: 'rejected',
  // The node refused it because its parent is no longer the tip: never on the chain.
  stale: 'rejected',
  duplicate: 'submitted',
  inconclusive: 'submitted',
  unconfirmed: 'submitted',
};

/** Statuses the tracker follows on the chain. */
const FOLLOWED: ReadonlySet<BlockStatus> = new Set<BlockStatus>(['submitted', 'accepted', 'confirmed', 'orphaned']);

// ---------------------------------------------------------------------------------------------
// The journal, folded

function isNetwork(n: string): n is Network {
  return (NETWORKS as readonly string[]).includes(n);
}

/** A found record as a tracked block; fields older journals lack are recovered from its hex. */
function entryOf(r: FoundBlockRecord): Entry {
  let { address, coinbaseValue, subsidy } = r;
  const { fees } = r;
  if ((address === undefined || coinbaseValue === undefined) && isNetwork(r.network)) {
    try {
      const outputs = coinbaseOutputs(r.blockHex);
      coinbaseValue ??= Number(outputs.reduce((sum, o) => sum + o.value, 0n));
      address ??= outputs.filter((o) => o.value > 0n).map((o) => scriptToAddress(o.script, r.network as Network)).find((a) => a !== undefined);
    } catch {
      // A damaged block hex only costs the row its value and address.
    }
  }
  if (subsidy === undefined && isNetwork(r.network) && Number.isInteger(r.height) && r.height >= 0) subsidy = blockSubsidy(r.height, r.network);
  return {
    hash: r.hash.toLowerCase(),
    height: r.height,
    network: r.network,
    foundAt: r.time,
    ...(r.engine !== undefined && { engine: r.engine }),
    ...(r.backend !== undefined && { backend: r.backend }),
    ...(r.worker !== undefined && { worker: r.worker }),
    ...(address !== undefined && { address }),
    ...(coinbaseValue !== undefined && { coinbaseValue }),
    ...(subsidy !== undefined && { subsidy }),
    ...(fees !== undefined ? { fees } : coinbaseValue !== undefined && subsidy !== undefined && { fees: Math.max(0, coinbaseValue - subsidy) }),
    status: 'found',
    statusAt: r.time,
    confirmations: null,
    maturityHeight: r.height + MATURITY_CONFIRMATIONS - 1,
    tipHeight: null,
    ...(r.coinbaseValue === undefined && { legacy: true }),
  };
}

function snapshot(e: Entry): TrackedBlock {
  const { verifiedAt: _verifiedAt, legacy: _legacy, handedBackTo: _handedBackTo, ...block } = e;
  return block;
}

/** Applies the journal's lines in order: what it last knew of every block. */
function foldInto(entries: Map<string, Entry>, records: readonly JournalRecord[]): JournalTip | null {
  let tip: JournalTip | null = null;
  for (const r of records) {
    if (r.type === 'found') {
      const key = r.hash.toLowerCase();
      if (!entries.has(key)) entries.set(key, entryOf(r));
      continue;
    }
    if (r.type === 'tip') {
      tip = { height: r.height, hash: r.hash, time: r.time };
      // Every block last recorded as confirmed was seen in the active chain at this tip.
      for (const e of entries.values()) {
        if (e.status !== 'confirmed' || (e.tipHeight !== null && r.height < e.tipHeight)) continue;
        e.confirmations = r.height - e.height + 1;
        e.tipHeight = r.height;
      }
      continue;
    }
    if (r.type === 'notified') continue;
    const e = entries.get(r.hash.toLowerCase());
    if (!e) continue;
    if (r.type === 'propagation') {
      e.knownTo = { nodes: [...r.nodes], of: r.of, peers: r.peers };
      continue;
    }
    if (r.type === 'answer') {
      e.answers = { ...e.answers, [r.node]: r.outcome };
      continue;
    }
    if (r.type === 'outcome') {
      // The node's answer settles a block still waiting for one; a later replay line of a block
      // the tracker already placed on the chain changes nothing.
      if (e.status !== 'found' && e.status !== 'submitted') continue;
      e.status = OUTCOME_STATUS[r.outcome];
      e.statusAt = r.time;
      if (r.reason !== undefined) e.reason = r.reason;
      else delete e.reason;
      continue;
    }
    e.status = r.status;
    e.statusAt = r.time;
    e.confirmations = r.confirmations;
    e.tipHeight = r.tipHeight;
    delete e.legacy;
    if (r.reason !== undefined) e.reason = r.reason;
    else delete e.reason;
  }
  return tip;
}

/** What the journal last knew of every block (no node needed). */
export function foldJournal(records: readonly JournalRecord[]): JournalView {
  const entries = new Map<string, Entry>();
  const tip = foldInto(entries, records);
  return { blocks: [...entries.values()].map(snapshot), tip };
}

// ---------------------------------------------------------------------------------------------
// Rewards

export interface RewardTotals {
  /** On the active chain with 100 confirmations or more. */
  readonly mature: { blocks: number; sats: number };
  /** Accepted or confirmed, not mature yet. */
  readonly immature: { blocks: number; sats: number };
  readonly orphaned: { blocks: number; sats: number };
  /** Found or submitted, the node's verdict not known yet. */
  readonly pending: { blocks: number; sats: number };
  readonly rejected: { blocks: number };
  /** mature + immature blocks. */
  readonly won: number;
  /** orphaned + rejected blocks. */
  readonly lost: number;
}

export function rewardTotals(blocks: readonly TrackedBlock[]): RewardTotals {
  const sum = (statuses: readonly BlockStatus[]) => {
    const of = blocks.filter((b) => statuses.includes(b.status));
    return { blocks: of.length, sats: of.reduce((a, b) => a + (b.coinbaseValue ?? 0), 0) };
  };
  const mature = sum(['mature']);
  const immature = sum(['accepted', 'confirmed']);
  const orphaned = sum(['orphaned']);
  const rejected = { blocks: blocks.filter((b) => b.status === 'rejected').length };
  return { mature, immature, orphaned, pending: sum(['found', 'submitted']), rejected, won: mature.blocks + immature.blocks, lost: orphaned.blocks + rejected.blocks };
}

// ---------------------------------------------------------------------------------------------
// The tracker

export class BlockTracker extends EventEmitter<TrackerEvents> {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private lastTip: Tip | undefined;
  private journalTip: JournalTip | null = null;
  private wanted: { tip: Tip; full: boolean } | undefined;
  private running: Promise<void> | undefined;
  private failing = false;
  /** Why the last check could not ask the node (undefined once a check succeeds). */
  failure: string | undefined;

  constructor(private readonly deps: BlockTrackerDeps) {
    super();
    this.now = deps.now ?? Date.now;
  }

  /** Takes in what the journal knows (its records, as FoundBlockJournal.scan() reads them). */
  load(records: readonly JournalRecord[]): this {
    this.journalTip = foldInto(this.entries, records);
    return this;
  }

  /** The blocks of the tracker's network, in the order they were found. */
  blocks(): TrackedBlock[] {
    return [...this.entries.values()].filter((e) => e.network === this.deps.network).map(snapshot);
  }

  /** The tip the journal last recorded when loaded, or the last one checked since. */
  get tip(): JournalTip | null {
    return this.journalTip;
  }

  totals(): RewardTotals {
    return rewardTotals(this.blocks());
  }

  /** A block just journaled by the submitter. */
  found(record: FoundBlockRecord): TrackedBlock {
    const key = record.hash.toLowerCase();
    let e = this.entries.get(key);
    if (!e) this.entries.set(key, (e = entryOf(record)));
    // A block of this run is news, whatever the journal held before.
    delete e.legacy;
    return snapshot(e);
  }

  /** A node's answer to a block (the submitter journaled it). */
  answered(hash: string, node: string, outcome: Outcome): void {
    const e = this.entries.get(hash.toLowerCase());
    if (e) e.answers = { ...e.answers, [node]: outcome };
  }

  /**
   * A block handed back to a node that had forgotten it (block-restorer.ts, at the node's
   * return): its next check says it is restored (journaled, announced).
   */
  handedBack(hash: string, node: string): void {
    const e = this.entries.get(hash.toLowerCase());
    if (e && e.network === this.deps.network && (e.status === 'accepted' || e.status === 'confirmed' || e.status === 'submitted')) e.handedBackTo = node;
  }

  /** Which configured nodes hold a block now (propagation.ts journaled it). */
  propagated(hash: string, knownTo: KnownTo): void {
    const e = this.entries.get(hash.toLowerCase());
    if (e) e.knownTo = knownTo;
  }

  /** The submitter's outcome of a block (already journaled by it). */
  submitted(hash: string, outcome: Outcome, reason?: string): TrackedBlock | undefined {
    const e = this.entries.get(hash.toLowerCase());
    if (!e) return undefined;
    if (e.status === 'found' || e.status === 'submitted') {
      e.status = OUTCOME_STATUS[outcome];
      e.statusAt = this.time();
      if (reason !== undefined) e.reason = reason;
      if (e.status === 'accepted') {
        // Accepted means it was the tip when the node answered; its place is checked at the next tip.
        e.confirmations = 1;
        e.tipHeight = e.height;
      }
    }
    return snapshot(e);
  }

  /** A new tip: followed blocks are checked (coalesced: one check runs at a time, the latest tip next). */
  onTip(tip: Tip): Promise<void> {
    this.wanted = { tip, full: this.wanted?.full ?? false };
    return this.drain();
  }

  /** Every followed block asked about (start-up, `solominer blocks`): no shortcut from the last tip. */
  checkAll(tip: Tip): Promise<void> {
    this.wanted = { tip, full: true };
    return this.drain();
  }

  /** Resolves when no check is running or waiting. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private drain(): Promise<void> {
    this.running ??= (async () => {
      try {
        while (this.wanted) {
          const { tip, full } = this.wanted;
          this.wanted = undefined;
          await this.check(tip, full);
        }
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private time(): string {
    return new Date(this.now()).toISOString();
  }

  private async check(tip: Tip, full: boolean): Promise<void> {
    const previous = this.lastTip;
    if (!full && previous?.hash === tip.hash) return;
    const changes: Change[] = [];
    let confirmed = 0;
    let ok = false;
    try {
      const followed = [...this.entries.values()].filter((e) => this.follows(e, tip));
      // The common case, a block on top of the last tip, settles every block seen at that tip.
      let tipHeader: ChainHeader | null = null;
      if (followed.length > 0 && !full && previous !== undefined && tip.height === previous.height + 1) tipHeader = await this.deps.header(tip.hash);
      const extendsPrevious = tipHeader !== null && tipHeader.previousblockhash === previous?.hash;
      for (const e of followed) {
        if (e.handedBackTo !== undefined) {
          await this.locate(e, tip, changes);
        } else if (extendsPrevious && e.verifiedAt === previous!.hash && (e.status === 'confirmed' || e.status === 'orphaned')) {
          if (e.status === 'confirmed') this.place(e, tip.height - e.height + 1, tip, changes);
        } else if (extendsPrevious && e.status === 'accepted' && (e.hash === tip.hash || e.hash === tipHeader?.previousblockhash)) {
          // Our block just accepted is the new tip, or its parent: no need to ask about it.
          this.place(e, e.hash === tip.hash ? 1 : 2, tip, changes);
        } else {
          await this.locate(e, tip, changes);
        }
        e.verifiedAt = tip.hash;
        if (e.status === 'confirmed') confirmed++;
      }
      ok = true;
    } catch (err) {
      // Without an answer nothing more is known: the next tip asks everything again.
      this.failure = errorMessage(err);
      if (!this.failing) {
        this.failing = true;
        this.deps.log('warn', 'block tracker: could not check found blocks with the node; trying again at the next tip', { error: this.failure });
      }
    }
    // What was learned (all of it, or what came before a failure) goes to the journal in one
    // write, then is announced. The tip line carries the new depth of every confirmed block.
    const records: JournalRecord[] = changes.map((c) => c.record);
    if (ok && confirmed > 0) records.push({ type: 'tip', time: this.time(), height: tip.height, hash: tip.hash });
    await this.write(records);
    for (const { record, transition } of changes) {
      const detail = record.status === 'orphaned' ? ` (${record.reason})` : ` (${record.confirmations} confirmations)`;
      const level = record.status === 'orphaned' || transition.restored === true ? 'warn' : 'info';
      const move = transition.restored === true ? `restored: ${record.reason}; ${transition.to}` : `${transition.from} → ${transition.to}`;
      this.deps.log(level, `block ${transition.block.height} ${move}${detail}`, {
        hash: record.hash,
        height: transition.block.height,
        from: transition.from,
        status: record.status,
        confirmations: record.confirmations,
      });
      this.emit('transition', transition);
    }
    if (!ok) {
      this.lastTip = undefined;
      return;
    }
    const caughtUp = changes.filter((c) => c.transition.catchUp === true).length;
    if (caughtUp > 0) {
      this.deps.log('info', `block tracker: ${caughtUp} block(s) of a journal written before block tracking brought up to date (not announced)`);
    }
    this.lastTip = tip;
    this.failure = undefined;
    if (this.failing) {
      this.failing = false;
      this.deps.log('info', 'block tracker: the node answers again; found blocks checked');
    }
    this.journalTip = { ...tip, time: this.time() };
    this.emit('checked', tip);
  }

  private follows(e: Entry, tip: Tip): boolean {
    if (e.network !== this.deps.network || !FOLLOWED.has(e.status)) return false;
    return e.status !== 'orphaned' || tip.height < e.height + ORPHAN_WATCH_BLOCKS;
  }

  /** Asks the node where the block is. */
  private async locate(e: Entry, tip: Tip, changes: Change[]): Promise<void> {
    const header = await this.deps.header(e.hash);
    if (header !== null) {
      const restoredBy = e.handedBackTo;
      delete e.handedBackTo;
      if (header.confirmations >= 1) this.place(e, header.confirmations, tip, changes, restoredBy);
      else this.orphan(e, tip, 'not in the active chain', changes);
      return;
    }
    if (this.deps.handBack !== undefined && !this.deps.readOnly) {
      // The node does not know it: it forgot it (a crash), or never got it. Hand it back.
      const answer = await this.deps.handBack(e.hash);
      if (answer !== undefined) {
        const after = await this.deps.header(e.hash);
        if (after !== null && after.confirmations >= 1) this.place(e, after.confirmations, tip, changes, 'the node');
        else if (after !== null) this.orphan(e, tip, 'handed back to the node, which holds another chain with more work at its height', changes);
        else if (answer.outcome === 'rejected' || answer.outcome === 'stale') this.orphan(e, tip, `refused when handed back to the node: ${answer.reason ?? answer.outcome}`, changes);
        // Else the node lacks a parent that is not ours: it is tried again at the next check.
        return;
      }
    }
    // Unknown to the node (never reached it, or a node rebuilt since): lost once another block
    // holds its height.
    const other = await this.deps.hashAt(e.height);
    if (other !== null && other.toLowerCase() !== e.hash) this.orphan(e, tip, `unknown to the node; block ${other} holds height ${e.height}`, changes);
  }

  /** In the active chain with `confirmations`; `restoredBy`: because it was just handed back to that node. */
  private place(e: Entry, confirmations: number, tip: Tip, changes: Change[], restoredBy?: string): void {
    const status: ChainStatus = confirmations >= MATURITY_CONFIRMATIONS ? 'mature' : 'confirmed';
    e.confirmations = confirmations;
    e.tipHeight = Math.max(tip.height, e.height + confirmations - 1);
    if (restoredBy !== undefined) changes.push(this.move(e, status, `${restoredBy} had forgotten it: handed back from the journal`, true));
    else if (e.status !== status) changes.push(this.move(e, status, undefined));
  }

  private orphan(e: Entry, tip: Tip, reason: string, changes: Change[]): void {
    e.confirmations = -1;
    e.tipHeight = tip.height;
    if (e.status !== 'orphaned') changes.push(this.move(e, 'orphaned', reason));
  }

  private move(e: Entry, status: ChainStatus, reason: string | undefined, restored = false): Change {
    const from = e.status;
    const catchUp = e.legacy === true;
    delete e.legacy;
    e.status = status;
    e.statusAt = this.time();
    if (reason !== undefined) e.reason = reason;
    else delete e.reason;
    const record: StatusRecord = {
      type: 'status',
      time: e.statusAt,
      hash: e.hash,
      status,
      confirmations: e.confirmations ?? -1,
      tipHeight: e.tipHeight,
      ...(reason !== undefined && { reason }),
      ...(restored && { restored: true }),
    };
    return { record, transition: { block: snapshot(e), from, to: status, ...(catchUp && { catchUp: true }), ...(restored && { restored: true }) } };
  }

  private async write(records: JournalRecord[]): Promise<void> {
    if (this.deps.readOnly || records.length === 0) return;
    try {
      await this.deps.journal.append(...records);
    } catch (err) {
      // The statuses are still announced; the next start-up check finds them again from the node.
      this.deps.log('error', 'block tracker: could not journal block statuses', { records: records.length, error: errorMessage(err) });
    }
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
