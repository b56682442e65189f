// Where templates come from (docs/architecture.md, "Data flow"): getblocktemplate from the node
// the node set names (the first usable one) the moment any node's ZMQ announces a block, longpoll
// when that node has no ZMQ (or its ZMQ has gone silent), and a periodic refresh for new
// transactions. Fetches are coalesced: a request that arrives while one is in flight is served by
// one more fetch after it, never by a pile of parallel calls. When the node set names another
// node (the first died, stalled, restarted, fell behind), a fetch in flight on the old one is
// dropped and the new one is asked at once; while no node is usable the source waits for one.
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

import { parseBlockTemplate, type BlockTemplate } from './block-template.js';
import { NodeAuthError, NodeTlsError, NodeUnreachableError, RpcError } from './errors.js';
import type { NodeLink } from './node-link.js';
import { isNotReadyError, RPC_MISC_ERROR } from './rpc-codes.js';
import { NETWORK_INFO, type Network } from './networks.js';
import type { NodeSet } from './nodes.js';
import type { BlockNotification } from './zmq-blocks.js';

/** `failover`: the node templates come from changed (another took over, or the first is back). */
export type TemplateReason = 'initial' | 'zmq' | 'longpoll' | 'refresh' | 'submit' | 'failover';

export interface TemplateUpdate {
  readonly template: BlockTemplate;
  readonly reason: TemplateReason;
  /** performance.now() when the need for a template arose (ZMQ message read, timer, ...). */
  readonly requestedAt: number;
  /** Milliseconds the getblocktemplate round trip took. */
  readonly rpcMs: number;
  /** The node it came from (its RPC URL). */
  readonly node?: string;
}

export interface TemplateSourceEvents {
  template: [TemplateUpdate];
  /** Something an operator should know; said once per occurrence, not per retry. */
  warning: [string];
}

export interface TemplateSourceOptions {
  readonly nodes: NodeSet;
  readonly network: Network;
  readonly refreshIntervalMs: number;
  /** How long a tip the refresh saw first may wait for its ZMQ notice (default 2000 ms). */
  readonly zmqGraceMs?: number;
}

/**
 * Our own submitblock, or a refresh, can show a new tip a few milliseconds before the node's ZMQ
 * notice of it arrives: ZMQ is called silent only when the notice has not come within this time.
 */
const ZMQ_GRACE_MS = 2000;


export function templateRequest(network: Network, longpollId?: string): Record<string, unknown> {
  // BIP9/BIP141: a client must name the rules it understands; signet blocks need "signet".
  const rules = NETWORK_INFO[network].signet ? ['segwit', 'signet'] : ['segwit'];
  return longpollId === undefined ? { rules } : { rules, longpollid: longpollId };
}

export class TemplateSource extends EventEmitter<TemplateSourceEvents> {
  private readonly nodes: NodeSet;
  private readonly network: Network;
  private readonly refreshIntervalMs: number;
  private readonly zmqGraceMs: number;
  private refreshTimer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private queued: { reason: TemplateReason; requestedAt: number } | undefined;
  /** The fetch in flight: which node it asks, and how to drop it. */
  private fetching: { link: NodeLink; abort: AbortController } | undefined;
  private longpoll: { link: NodeLink; abort: AbortController } | undefined;
  private stopped = false;
  private delivered = false;
  private lastTemplate: BlockTemplate | undefined;
  /** Tips RPC showed before the node's ZMQ did, each with the timer that declares it silent. */
  private readonly awaitingZmq = new Map<string, NodeJS.Timeout>();
  /** The highest tip each node has shown since it last passed its gate. */
  private readonly peak = new Map<NodeLink, number>();
  private longpolling = false;
  private lastWarning: string | undefined;
  private readonly abort = new AbortController();
  private readonly detach: Array<() => void> = [];

  constructor(options: TemplateSourceOptions) {
    super();
    this.nodes = options.nodes;
    this.network = options.network;
    this.refreshIntervalMs = options.refreshIntervalMs;
    this.zmqGraceMs = options.zmqGraceMs ?? ZMQ_GRACE_MS;
  }

  /** Resolves once the first node's ZMQ has connected (never without one): for tests. */
  get zmqConnected(): Promise<void> {
    return this.nodes.links[0]?.zmq?.connected ?? new Promise(() => {});
  }

  /** Whether the node templates come from announces blocks over ZMQ now. */
  get usingZmq(): boolean {
    const link = this.nodes.current();
    return link?.zmq !== undefined && !link.zmqSilent;
  }

  /** Fetches the first template (emitted with reason "initial") and starts listening. */
  async start(): Promise<void> {
    const onBlock = (link: NodeLink, n: BlockNotification) => this.onZmqBlock(link, n);
    const onCurrent = (link: NodeLink | undefined) => this.onCurrent(link);
    const onHealth = (link: NodeLink) => {
      // Through its gate again: the tip it shows now is the one to judge later ones by.
      if (link.health.state === 'restoring') this.peak.delete(link);
    };
    this.nodes.on('block', onBlock);
    this.nodes.on('current', onCurrent);
    this.nodes.on('health', onHealth);
    this.detach.push(
      () => this.nodes.off('block', onBlock),
      () => this.nodes.off('current', onCurrent),
      () => this.nodes.off('health', onHealth),
    );
    await this.request('initial');
    if (this.stopped) return;
    if (!this.usingZmq) void this.longpollLoop();
    if (this.refreshIntervalMs > 0) {
      this.refreshTimer = setInterval(() => void this.request('refresh'), this.refreshIntervalMs);
    }
  }

  /** Asks for a fresh template now (coalesced with one already in flight). */
  request(reason: TemplateReason, requestedAt = performance.now()): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.inFlight) {
      // One more fetch after the current one covers every request made meanwhile; keep the
      // earliest trigger so latency figures are not flattered.
      if (!this.queued || reason === 'zmq' || reason === 'submit' || reason === 'failover') {
        this.queued = { reason, requestedAt: this.queued ? Math.min(this.queued.requestedAt, requestedAt) : requestedAt };
      }
      return this.inFlight.catch(() => undefined);
    }
    this.inFlight = this.fetchLoop(reason, requestedAt).finally(() => {
      this.inFlight = undefined;
      const next = this.queued;
      this.queued = undefined;
      if (next && !this.stopped) void this.request(next.reason, next.requestedAt);
    });
    // Only the first fetch may fail (start() reports it); later ones retry inside fetchLoop.
    return reason === 'initial' ? this.inFlight : this.inFlight.catch(() => undefined);
  }

  private async fetchLoop(firstReason: TemplateReason, requestedAt: number): Promise<void> {
    let reason = firstReason;
    let delay = 250;
    let tried: NodeLink | undefined;
    while (!this.stopped) {
      const link = this.nodes.current() ?? (await this.nodes.whenCurrent(this.abort.signal));
      if (link === undefined) return; // stopped
      // A retry on another node than the one that failed: its work is a failover's.
      if (tried !== undefined && tried !== link) reason = 'failover';
      tried = link;
      const abort = new AbortController();
      this.fetching = { link, abort };
      const began = performance.now();
      try {
        const raw = await link.rpc.callDirectAbortable<unknown>(abort.signal, 'getblocktemplate', templateRequest(this.network));
        const rpcMs = performance.now() - began;
        // Another node took over while this one answered: ask that one.
        if (this.nodes.current() !== link) {
          reason = 'failover';
          continue;
        }
        const template = parseBlockTemplate(raw);
        if (this.wentBack(link, template)) {
          // Its gate takes it out of use for a moment; ask again once the node set has decided.
          await this.pause(5000, link);
          continue;
        }
        this.lastWarning = undefined;
        this.deliver(link, template, reason, requestedAt, rpcMs);
        return;
      } catch (err) {
        // Dropped because another node took over: ask it at once.
        if (abort.signal.aborted) {
          reason = 'failover';
          continue;
        }
        if (!this.isWaitable(err)) {
          // The node's probe says first what is wrong with it (another chain, shutting down, still
          // loading or catching up its chain): a failure it explains is not said twice.
          await link.probeSoon();
          // At start-up a refusal by a node that is usable (wrong rules, a template this miner
          // cannot use) is final; a node whose probe says it is not ready yet is waited for (a
          // restarted Knots answered -1 "Internal bug detected: block_template" while it caught up),
          // and so is a node's own fault (RPC_MISC_ERROR: the same answer from a Knots that had just
          // started and said it was ready), said once and retried as later in the run.
          const nodeFault = err instanceof RpcError && err.code === RPC_MISC_ERROR;
          if (reason === 'initial' && !this.delivered && link.usable && !nodeFault) throw err;
          if (link.usable) this.warnOnce(`getblocktemplate from ${link.label} failed (${(err as Error).message.split('\n')[0]}); retrying`);
        } else {
          link.fault();
        }
        // Waited out; the probe the fault started may hand the work to another node meanwhile.
        await this.pause(delay, link);
        delay = Math.min(delay * 2, 5000);
      } finally {
        this.fetching = undefined;
      }
    }
  }

  /** Sleeps `ms`, or less when the node set names another node than `link` (or none). */
  private async pause(ms: number, link: NodeLink): Promise<void> {
    const moved = new AbortController();
    const onCurrent = (next: NodeLink | undefined) => {
      if (next !== link) moved.abort();
    };
    this.nodes.on('current', onCurrent);
    try {
      await sleep(ms, undefined, { signal: AbortSignal.any([this.abort.signal, moved.signal]) }).catch(() => undefined);
    } finally {
      this.nodes.off('current', onCurrent);
    }
  }

  /**
   * A template below a tip the same node showed before: the node lost blocks (a crash that cut
   * what it had not flushed) or is rebuilding its chain. It goes through its gate again (the
   * service hands back our blocks) before any work is mined on it.
   */
  private wentBack(link: NodeLink, template: BlockTemplate): boolean {
    const tipHeight = template.height - 1;
    const peak = this.peak.get(link);
    if (peak !== undefined && tipHeight < peak) {
      link.suspect(`its tip went back from height ${peak} to ${tipHeight}`);
      return true;
    }
    this.peak.set(link, Math.max(peak ?? tipHeight, tipHeight));
    return false;
  }

  private deliver(link: NodeLink, template: BlockTemplate, reason: TemplateReason, requestedAt: number, rpcMs: number): void {
    const previous = this.lastTemplate;
    this.lastTemplate = template;
    this.delivered = true;
    link.sawTip(template.previousblockhash, template.height - 1);
    if (link.zmq && !link.zmqSilent && previous && previous.previousblockhash !== template.previousblockhash && !link.zmqAnnounced(template.previousblockhash)) {
      this.checkZmqSaw(link, template.previousblockhash);
    }
    this.emit('template', { template, reason, requestedAt, rpcMs, node: link.name });
  }

  /**
   * The tip moved and the node's ZMQ has not announced it (yet). Unless its notice arrives within
   * the grace period, say once that ZMQ is silent and longpoll until it delivers again.
   */
  private checkZmqSaw(link: NodeLink, tip: string): void {
    if (this.awaitingZmq.has(tip)) return;
    const timer = setTimeout(() => {
      this.awaitingZmq.delete(tip);
      if (this.stopped || link.zmqAnnounced(tip) || link.zmqSilent || this.nodes.current() !== link) return;
      link.zmqSilent = true;
      this.emit('warning', `ZMQ at ${link.zmq!.endpoint} said nothing of block ${tip} within ${this.zmqGraceMs} ms; relying on longpoll until it delivers again`);
      void this.longpollLoop();
    }, this.zmqGraceMs);
    timer.unref();
    this.awaitingZmq.set(tip, timer);
  }

  private onZmqBlock(link: NodeLink, n: BlockNotification): void {
    const waiting = this.awaitingZmq.get(n.hash);
    if (waiting !== undefined && this.nodes.current() === link) {
      clearTimeout(waiting);
      this.awaitingZmq.delete(n.hash);
    }
    if (link.zmqSilent) {
      link.zmqSilent = false;
      this.emit('warning', `ZMQ at ${link.zmq!.endpoint} is delivering again`);
      // Tips seen while it was silent wait for no notice of theirs any more; longpoll stands down.
      for (const timer of this.awaitingZmq.values()) clearTimeout(timer);
      this.awaitingZmq.clear();
      if (this.longpoll?.link === link) this.longpoll.abort.abort();
    }
    // Several nodes announcing one block cost at most one more fetch: requests are coalesced.
    void this.request('zmq', n.receivedAt);
  }

  private onCurrent(link: NodeLink | undefined): void {
    if (this.stopped || link === undefined) return;
    // A fetch or longpoll on the node that lost its place is dropped; the loop asks the new one.
    if (this.longpoll && this.longpoll.link !== link) this.longpoll.abort.abort();
    if (this.fetching && this.fetching.link !== link) {
      this.fetching.abort.abort();
      return;
    }
    if (this.delivered) void this.request('failover');
    if (!this.usingZmq) void this.longpollLoop();
  }

  private async longpollLoop(): Promise<void> {
    if (this.longpolling) return;
    this.longpolling = true;
    try {
      let delay = 250;
      while (!this.stopped && !this.usingZmq) {
        const link = this.nodes.current() ?? (await this.nodes.whenCurrent(this.abort.signal));
        if (link === undefined) return;
        if (this.usingZmq) return;
        const abort = new AbortController();
        this.longpoll = { link, abort };
        const id = this.lastTemplate?.longpollid;
        try {
          const raw = await link.longpollRpc.callDirectAbortable<unknown>(abort.signal, 'getblocktemplate', templateRequest(this.network, id));
          if (this.stopped) return;
          delay = 250;
          if (this.nodes.current() !== link) continue;
          const template = parseBlockTemplate(raw);
          if (this.wentBack(link, template)) {
            await this.pause(5000, link);
            continue;
          }
          if (template.longpollid !== this.lastTemplate?.longpollid || template.previousblockhash !== this.lastTemplate?.previousblockhash) {
            this.deliver(link, template, 'longpoll', performance.now(), 0);
          }
        } catch (err) {
          if (this.stopped) return;
          if (abort.signal.aborted) continue;
          link.fault();
          if (!this.isWaitable(err)) this.warnOnce(`longpoll on ${link.label}: ${(err as Error).message}`);
          await this.pause(delay, link);
          delay = Math.min(delay * 2, 5000);
        } finally {
          this.longpoll = undefined;
        }
      }
    } finally {
      this.longpolling = false;
    }
  }

  /** Says a repeated failure once, until a fetch succeeds. */
  private warnOnce(message: string): void {
    if (message === this.lastWarning) return;
    this.lastWarning = message;
    this.emit('warning', message);
  }

  /**
   * Answers that say the node cannot serve now rather than that it refuses us: unreachable,
   * warming up, in IBD, no peers, a login or certificate being renewed. Any other failure asks
   * the node's probe first (fetchLoop), so what the probe explains is not said twice.
   */
  private isWaitable(err: unknown): boolean {
    // A refused login or an untrusted certificate mid-run (a node restarting, a certificate
    // being renewed) is waited out like an outage; at start-up the service refuses them.
    return (
      err instanceof NodeUnreachableError ||
      isNotReadyError(err) ||
      err instanceof NodeAuthError ||
      err instanceof NodeTlsError
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.fetching?.abort.abort();
    this.longpoll?.abort.abort();
    for (const off of this.detach.splice(0)) off();
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    for (const timer of this.awaitingZmq.values()) clearTimeout(timer);
    this.awaitingZmq.clear();
    await this.inFlight?.catch(() => undefined);
  }
}
