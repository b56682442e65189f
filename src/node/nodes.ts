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
  readonly now?: () => number;
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
}

export class NodeSet extends EventEmitter<NodeSetEvents> {
  readonly links: readonly NodeLink[];
  private chosen: NodeLink | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly probeIntervalMs: number;
  private stopped = false;

  constructor(entries: readonly NodeEntry[], options: NodeSetOptions) {
    super();
    if (entries.length === 0) throw new TypeError('NodeSet: expected at least one node');
    this.probeIntervalMs = options.probeIntervalMs ?? 2000;
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
        this.emit('health', link, previous);
        this.choose();
      });
      link.on('block', (n) => this.emit('block', link, n));
      link.on('zmqWarning', (w) => this.emit('warning', link, w));
      link.on('restarted', (why) => this.emit('restarted', link, why));
    }
  }

  get size(): number {
    return this.links.length;
  }

  /** The node templates come from now: the first usable one in the configured order. */
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
      for (const link of this.links) void link.probeSoon();
    }, this.probeIntervalMs);
    this.timer.unref();
    await this.probeAll();
  }

  /** Probes every node now; resolves when each has answered or failed. */
  async probeAll(): Promise<void> {
    await Promise.all(this.links.map((l) => l.probeSoon()));
  }

  private choose(): void {
    if (this.stopped) return;
    const next = this.links.find((l) => l.usable);
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
