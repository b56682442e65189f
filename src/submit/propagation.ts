// Whether a found block has left the machine. A node that accepted our block and then crashed
// before relaying it took the block with it; a node without peers relays it to nobody. So after
// acceptance the miner watches which of the configured nodes hold the block (their answers to
// submitblock, their ZMQ notices of it, getblockheader) and whether the nodes holding it sent it
// on: getpeerinfo's bytes sent per message type (block, cmpctblock, blocktxn), per peer, against a
// baseline taken when the block was found — a peer that received block data since took it (or
// one found at the same moment; the count errs towards more, never hides a block sent nowhere
// when no other block came). "Known to k of n nodes" is journaled (a `propagation` line) when it
// changes; a block known to one node only, sent to no peer, past the alarm time is announced
// (the service makes it an error, a metric and a notification).
import type { KnownTo } from './block-tracker.js';
import type { Logger, NodeAnswer } from './block-submitter.js';
import type { FoundBlockJournal } from './found-block-journal.js';

/** A configured node as the watch asks it. */
export interface PropagationNode {
  /** Its RPC URL. */
  readonly name: string;
  /** Whether it knows the block (getblockheader). */
  readonly knows: (hash: string) => Promise<boolean>;
  /** Bytes of block data it has sent to each peer, by peer id (getpeerinfo). */
  readonly peerBlockBytes: () => Promise<ReadonlyMap<number, number>>;
}

export interface PropagationDeps {
  /** The configured nodes that can be asked now. */
  readonly nodes: () => readonly PropagationNode[];
  /** Configured nodes in all (the n of "k of n"). */
  readonly of: number;
  readonly journal: Pick<FoundBlockJournal, 'append'> & Partial<Pick<FoundBlockJournal, 'defer'>>;
  readonly log: Logger;
  /** After this long known to one node only and sent to no peer, a block is isolated; 0: no alarm. */
  readonly alarmMs: number;
  /** The watch learned more (journaled already). */
  readonly onChange?: (hash: string, knownTo: KnownTo) => void;
  readonly onIsolated?: (hash: string, knownTo: KnownTo, afterSeconds: number) => void;
}

/** Answers after which a node holds the block (in its active chain or beside it). */
const HOLDS: ReadonlySet<string> = new Set(['accepted', 'duplicate', 'inconclusive']);
/** Peers are counted this long after acceptance (or at half the alarm time, when that is sooner). */
const PEER_CHECK_MS = 10_000;
/** Blocks followed at once; the oldest is let go beyond this. */
const WATCHED_CAP = 256;

interface Watched {
  readonly names: Set<string>;
  peers: number | null;
  /** Each node's bytes sent per peer when the block was found. */
  readonly baseline: Map<string, Promise<ReadonlyMap<number, number> | undefined>>;
  readonly timers: NodeJS.Timeout[];
  readonly acceptedAt: number;
  isolated: boolean;
}

export class PropagationWatch {
  private readonly baselines = new Map<string, Map<string, Promise<ReadonlyMap<number, number> | undefined>>>();
  private readonly watched = new Map<string, Watched>();
  private stopped = false;

  constructor(private readonly deps: PropagationDeps) {}

  /**
   * A block was found: each node's bytes sent per peer now, the baseline (not waited for). Without
   * an alarm (regtest, signet: nodes without peers, blocks by the second) peers are not counted:
   * "k of n" comes from the nodes' answers and ZMQ notices alone.
   */
  found(hash: string): void {
    if (this.deps.alarmMs <= 0) return;
    const key = hash.toLowerCase();
    const baseline = new Map<string, Promise<ReadonlyMap<number, number> | undefined>>();
    for (const n of this.deps.nodes()) {
      const p = n.peerBlockBytes().catch(() => undefined);
      baseline.set(n.name, p);
    }
    this.baselines.set(key, baseline);
    // Bounded: only blocks still being followed need one.
    if (this.baselines.size > 64) this.baselines.delete(this.baselines.keys().next().value!);
  }

  /** The nodes' answers to a submission: who holds the block now. Returns what that makes known. */
  answered(hash: string, answers: readonly NodeAnswer[]): KnownTo {
    const key = hash.toLowerCase();
    let w = this.watched.get(key);
    if (w === undefined) {
      if (!answers.some((a) => a.outcome === 'accepted')) return this.knownTo(new Set(answers.filter((a) => HOLDS.has(a.outcome)).map((a) => a.node)), null);
      w = { names: new Set(), peers: null, baseline: this.baselines.get(key) ?? new Map(), timers: [], acceptedAt: Date.now(), isolated: false };
      this.baselines.delete(key);
      this.watched.set(key, w);
      // Bounded: without an alarm nothing else ends a watch (regtest finds blocks by the second).
      if (this.watched.size > WATCHED_CAP) this.done(this.watched.keys().next().value!);
      this.schedule(key, w);
    }
    const before = w.names.size;
    for (const a of answers) if (HOLDS.has(a.outcome)) w.names.add(a.node);
    if (w.names.size !== before) void this.record(key, w);
    return this.knownTo(w.names, w.peers);
  }

  /** A node announced the block over ZMQ: it holds it. */
  seen(node: string, hash: string): void {
    const w = this.watched.get(hash.toLowerCase());
    if (w === undefined || w.names.has(node)) return;
    w.names.add(node);
    void this.record(hash.toLowerCase(), w);
  }

  private schedule(key: string, w: Watched): void {
    const alarm = this.deps.alarmMs;
    if (alarm <= 0) {
      // Followed no further: what the answers and ZMQ notices say is journaled as it comes.
      return;
    }
    const peerCheck = Math.min(PEER_CHECK_MS, alarm / 2);
    const later = (ms: number, fn: () => Promise<void>) => {
      const t = setTimeout(() => void fn().catch((err: unknown) => this.deps.log('warn', `propagation check failed: ${(err as Error).message}`, { hash: key })), ms);
      t.unref();
      w.timers.push(t);
    };
    later(peerCheck, () => this.check(key, w));
    later(alarm, async () => {
      await this.check(key, w);
      if (w.names.size <= 1 && (w.peers ?? 0) === 0 && !w.isolated && !this.stopped) {
        w.isolated = true;
        this.deps.onIsolated?.(key, this.knownTo(w.names, w.peers), Math.round(alarm / 1000));
      }
      this.done(key);
    });
  }

  /** Asks the nodes that do not hold it yet, and counts the peers of those that do. */
  private async check(key: string, w: Watched): Promise<void> {
    if (this.stopped) return;
    const nodes = this.deps.nodes();
    const before = { names: w.names.size, peers: w.peers };
    await Promise.all(
      nodes
        .filter((n) => !w.names.has(n.name))
        .map(async (n) => {
          if (await n.knows(key).catch(() => false)) w.names.add(n.name);
        }),
    );
    let peers = 0;
    let counted = false;
    for (const n of nodes.filter((x) => w.names.has(x.name))) {
      const base = await (w.baseline.get(n.name) ?? Promise.resolve(undefined));
      const now = await n.peerBlockBytes().catch(() => undefined);
      if (base === undefined || now === undefined) continue;
      counted = true;
      for (const [peer, bytes] of now) if (bytes > (base.get(peer) ?? 0)) peers++;
    }
    if (counted) w.peers = peers;
    if (w.names.size !== before.names || w.peers !== before.peers) await this.record(key, w);
  }

  private async record(key: string, w: Watched): Promise<void> {
    const knownTo = this.knownTo(w.names, w.peers);
    const line = { type: 'propagation' as const, time: new Date().toISOString(), hash: key, nodes: knownTo.nodes, of: knownTo.of, peers: knownTo.peers };
    try {
      // Not worth an fsync of its own (one per block on regtest): it goes with the next write.
      if (this.deps.journal.defer !== undefined) this.deps.journal.defer(line);
      else await this.deps.journal.append(line);
    } catch (err) {
      this.deps.log('error', 'block propagation could not be journaled', { hash: key, error: (err as Error).message });
    }
    this.deps.onChange?.(key, knownTo);
  }

  private knownTo(names: ReadonlySet<string>, peers: number | null): KnownTo {
    return { nodes: [...names], of: this.deps.of, peers };
  }

  private done(key: string): void {
    const w = this.watched.get(key);
    if (w) for (const t of w.timers) clearTimeout(t);
    this.watched.delete(key);
  }

  stop(): void {
    this.stopped = true;
    for (const key of [...this.watched.keys()]) this.done(key);
  }
}

/** getpeerinfo's bytes of block data sent to each peer (block, cmpctblock and blocktxn messages). */
export function blockBytesByPeer(peers: ReadonlyArray<{ id: number; bytessent_per_msg?: Record<string, number> }>): Map<number, number> {
  const out = new Map<number, number>();
  for (const p of peers) {
    const m = p.bytessent_per_msg ?? {};
    out.set(p.id, (m.block ?? 0) + (m.cmpctblock ?? 0) + (m.blocktxn ?? 0));
  }
  return out;
}
