// The nodes the miner works with (docs/architecture.md, "Nodes"): one or several, in the order
// configured. Templates come from the first usable one; when it dies, stalls, restarts, falls
// behind or switches chains, the next usable one takes over at once (the set says so with a
// `current` event), and the first takes over again when it is back. Every node's ZMQ feeds one
// stream of new-block notices, so a block any of them sees moves the work. Found blocks go to
// every node (src/submit/block-submitter.ts), each answer on its own.
//
// A single node is the same set with one member: one code path, one behaviour.
import { EventEmitter } from 'node:events';

import type { Network } from './networks.js';
import { NodeLink, type NodeEntry, type NodeGate, type NodeHealth } from './node-link.js';
import type { BlockNotification } from './zmq-blocks.js';

export { NodeLink, type NodeEntry, type NodeGate, type NodeHealth };
export type { NodeState } from './node-link.js';

export interface NodeSetOptions {
  readonly network: Network;
  /** Every node is probed this often besides the probes events trigger (default 2000 ms). */
  readonly probeIntervalMs?: number;
  /** Limit on one probe call (default 5000 ms). */
  readonly probeTimeoutMs?: number;
  /** ZMTP heartbeat timeout (default 10 000 ms). */
  readonly zmqHeartbeatMs?: number;
  /** Usable nodes on different tips this long are said to disagree (default 30 000 ms). */
  readonly disagreeMs?: number;
  readonly now?: () => number;
}

/** A node's tip, as the disagreement says it. */
export interface NodeTip {
  readonly node: NodeLink;
  readonly height: number | null;
  readonly tip: string | null;
}

export interface NodeSetEvents {
  /** A node's health changed; the argument after the node is its previous health. */
  health: [NodeLink, NodeHealth];
  /** The node templates come from changed: the new one (undefined: none usable), the previous one. */
  current: [NodeLink | undefined, NodeLink | undefined];
  /** A hashblock notice from any node's ZMQ. */
  block: [NodeLink, BlockNotification];
  /** Something about a node an operator should know (its ZMQ), said once per occurrence. */
  warning: [NodeLink, string];
  /** A node was restarted (seen by its uptime or its ZMQ). */
  restarted: [NodeLink, string];
  /**
   * Usable nodes have been on different tips for a while (a fork, a node cut off from its peers),
   * or agree again (an empty list); said once each way.
   */
  disagree: [readonly NodeTip[]];
  /**
   * A usable node on another tip than the one work comes from, past `disagreeMs`: said again each
   * time its tip moves while it lags (the service hands it our blocks it lacks).
   */
  lagging: [NodeLink];
}

export class NodeSet extends EventEmitter<NodeSetEvents> {
  readonly links: readonly NodeLink[];
  private chosen: NodeLink | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly probeIntervalMs: number;
  private readonly disagreeMs: number;
  private readonly now: () => number;
  private disagreeSince: number | undefined;
  private disagreeSaid = false;
  /** The tip each lagging node was last reported at. */
  private readonly lagTips = new Map<NodeLink, string | null>();
  private stopped = false;

  constructor(entries: readonly NodeEntry[], options: NodeSetOptions) {
    super();
    if (entries.length === 0) throw new TypeError('NodeSet: expected at least one node');
    this.probeIntervalMs = options.probeIntervalMs ?? 2000;
    this.disagreeMs = options.disagreeMs ?? 30_000;
    this.now = options.now ?? Date.now;
    this.links = entries.map(
      (entry, i) =>
        new NodeLink(entry, {
          network: options.network,
          index: i + 1,
          ...(options.probeTimeoutMs !== undefined && { probeTimeoutMs: options.probeTimeoutMs }),
          ...(options.zmqHeartbeatMs !== undefined && { zmqHeartbeatMs: options.zmqHeartbeatMs }),
          ...(options.now !== undefined && { now: options.now }),
        }),
    );
    for (const link of this.links) {
      link.on('health', (previous) => {
        // Chosen first, so that what listens to the change knows where work comes from now.
        this.choose();
        this.emit('health', link, previous);
      });
      link.on('block', (n) => this.emit('block', link, n));
      link.on('zmqWarning', (w) => this.emit('warning', link, w));
      link.on('restarted', (why) => this.emit('restarted', link, why));
    }
  }

  get size(): number {
    return this.links.length;
  }

  /**
   * The node templates come from now: the first usable one in the configured order that is not
   * behind another usable node (work on a lower tip would only race our own blocks).
   */
  current(): NodeLink | undefined {
    return this.chosen;
  }

  /** Resolves with the current node once there is one (undefined when `signal` aborts first). */
  whenCurrent(signal?: AbortSignal): Promise<NodeLink | undefined> {
    if (this.chosen || signal?.aborted) return Promise.resolve(this.chosen);
    return new Promise((resolve) => {
      const done = (link: NodeLink | undefined): void => {
        if (link === undefined && !signal?.aborted) return;
        this.off('current', done);
        signal?.removeEventListener('abort', onAbort);
        resolve(link);
      };
      const onAbort = (): void => done(undefined);
      this.on('current', done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Every (re)connected node passes `gate` before it is used (the service hands back forgotten blocks). */
  setGate(gate: NodeGate): void {
    for (const link of this.links) link.setGate(gate);
  }

  /** Starts every ZMQ subscription and the probes; resolves after the first probe of each node. */
  async start(): Promise<void> {
    for (const link of this.links) link.startZmq();
    this.timer = setInterval(() => {
      void Promise.all(this.links.map((link) => link.probeSoon())).then(() => this.compareTips());
    }, this.probeIntervalMs);
    // Held (not unref'd): while every node is down, the probes are what keeps the miner waiting.
    await this.probeAll();
  }

  /** Probes every node now; resolves when each has answered or failed. */
  async probeAll(): Promise<void> {
    await Promise.all(this.links.map((l) => l.probeSoon()));
  }

  /**
   * Nodes on different tips: normal for the moment a block takes to reach them all, news when it
   * lasts. Said once when it has lasted `disagreeMs`, and once when they agree again.
   */
  private compareTips(): void {
    if (this.stopped || this.links.length < 2) return;
    this.choose();
    const usable = this.links.filter((l) => l.usable && l.chain !== undefined);
    const split = new Set(usable.map((l) => l.chain!.bestblockhash)).size > 1;
    if (!split) {
      this.disagreeSince = undefined;
      this.lagTips.clear();
      if (this.disagreeSaid) {
        this.disagreeSaid = false;
        this.emit('disagree', []);
      }
      return;
    }
    this.disagreeSince ??= this.now();
    if (this.now() - this.disagreeSince < this.disagreeMs) return;
    if (!this.disagreeSaid) {
      this.disagreeSaid = true;
      this.emit('disagree', usable.map((node) => ({ node, height: node.chain!.blocks, tip: node.chain!.bestblockhash })));
    }
    const work = this.chosen;
    for (const link of usable) {
      const tip = link.chain!.bestblockhash;
      if (link === work || tip === work?.chain?.bestblockhash) continue;
      if (this.lagTips.get(link) === tip) continue;
      this.lagTips.set(link, tip);
      this.emit('lagging', link);
    }
  }

  private choose(): void {
    if (this.stopped) return;
    const usable = this.links.filter((l) => l.usable);
    const best = Math.max(-1, ...usable.map((l) => l.chain?.blocks ?? -1));
    // One block behind is a block on its way; more is a node catching up (it is handed our
    // blocks meanwhile: the 'lagging' event). Heights as probed, all nodes at one pace.
    const next = usable.find((l) => l.chain === undefined || l.chain.blocks >= best - 1) ?? usable[0];
    if (next === this.chosen) return;
    const previous = this.chosen;
    this.chosen = next;
    this.emit('current', next, previous);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.all(this.links.map((l) => l.stop()));
  }
}
