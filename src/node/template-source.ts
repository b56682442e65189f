// Where templates come from (docs/architecture.md, "Data flow"): getblocktemplate the moment ZMQ
// announces a block, longpoll when there is no ZMQ (or it has gone silent), and a periodic
// refresh for new transactions. Fetches are coalesced: a request that arrives while one is in
// flight is served by one more fetch after it, never by a pile of parallel calls. While the
// node is unreachable the source says so once and retries with backoff for as long as it takes.
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

import { parseBlockTemplate, type BlockTemplate } from './block-template.js';
import { NodeAuthError, NodeTlsError, NodeUnreachableError, RpcError } from './errors.js';
import { NETWORK_INFO, type Network } from './networks.js';
import type { RpcClient } from './rpc-client.js';
import { ZmqBlockSubscriber, type BlockNotification } from './zmq-blocks.js';

export type TemplateReason = 'initial' | 'zmq' | 'longpoll' | 'refresh' | 'submit';

export interface TemplateUpdate {
  readonly template: BlockTemplate;
  readonly reason: TemplateReason;
  /** performance.now() when the need for a template arose (ZMQ message read, timer, ...). */
  readonly requestedAt: number;
  /** Milliseconds the getblocktemplate round trip took. */
  readonly rpcMs: number;
}

export interface TemplateSourceEvents {
  template: [TemplateUpdate];
  /** Something an operator should know; said once per occurrence, not per retry. */
  warning: [string];
  nodeDown: [Error];
  nodeUp: [];
}

export interface TemplateSourceOptions {
  readonly rpc: RpcClient;
  readonly network: Network;
  readonly zmqEndpoint?: string | undefined;
  readonly refreshIntervalMs: number;
  /** How long a tip the refresh saw first may wait for its ZMQ notice (default 2000 ms). */
  readonly zmqGraceMs?: number;
}

/**
 * Our own submitblock, or a refresh, can show a new tip a few milliseconds before the node's ZMQ
 * notice of it arrives: ZMQ is called silent only when the notice has not come within this time.
 */
const ZMQ_GRACE_MS = 2000;
/** Hashes of recent ZMQ notices kept to match against tips seen by RPC (blocks, not seconds). */
const ZMQ_SEEN_CAP = 4096;

/** JSON-RPC codes that mean "not ready yet" rather than "refused": warming up, in IBD. */
const NOT_READY_CODES = new Set([-28, -9, -10]);

export function templateRequest(network: Network, longpollId?: string): Record<string, unknown> {
  // BIP9/BIP141: a client must name the rules it understands; signet blocks need "signet".
  const rules = NETWORK_INFO[network].signet ? ['segwit', 'signet'] : ['segwit'];
  return longpollId === undefined ? { rules } : { rules, longpollid: longpollId };
}

export class TemplateSource extends EventEmitter<TemplateSourceEvents> {
  private readonly rpc: RpcClient;
  private readonly longpollRpc: RpcClient;
  private readonly network: Network;
  private readonly refreshIntervalMs: number;
  private readonly zmq: ZmqBlockSubscriber | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private queued: { reason: TemplateReason; requestedAt: number } | undefined;
  private stopped = false;
  private down = false;
  private lastTemplate: BlockTemplate | undefined;
  private readonly zmqGraceMs: number;
  /** Blocks ZMQ announced recently. */
  private readonly zmqSeen = new Set<string>();
  /** Tips RPC showed before ZMQ did, each with the timer that declares ZMQ silent. */
  private readonly awaitingZmq = new Map<string, NodeJS.Timeout>();
  private zmqSilent = false;
  private longpolling = false;
  private readonly abort = new AbortController();

  constructor(options: TemplateSourceOptions) {
    super();
    this.rpc = options.rpc;
    // bitcoin-core's 30 s limit would cut every longpoll short: this client has none.
    this.longpollRpc = options.rpc.withTimeout(0);
    this.network = options.network;
    this.refreshIntervalMs = options.refreshIntervalMs;
    this.zmqGraceMs = options.zmqGraceMs ?? ZMQ_GRACE_MS;
    this.zmq = options.zmqEndpoint ? new ZmqBlockSubscriber(options.zmqEndpoint) : undefined;
  }

  /** Resolves once ZMQ has connected to the node's publisher (never without --zmq). */
  get zmqConnected(): Promise<void> {
    return this.zmq?.connected ?? new Promise(() => {});
  }

  get usingZmq(): boolean {
    return this.zmq !== undefined && !this.zmqSilent;
  }

  /** Fetches the first template (emitted with reason "initial") and starts listening. */
  async start(): Promise<void> {
    if (this.zmq) {
      this.zmq.on('block', (n) => this.onZmqBlock(n));
      this.zmq.on('gap', (missed) => this.emit('warning', `ZMQ: ${missed} block notification(s) lost; fetched a fresh template`));
      this.zmq.on('error', (err) => this.emit('warning', `ZMQ: ${err.message}`));
      this.zmq.start();
    }
    await this.request('initial');
    if (!this.zmq) void this.longpollLoop();
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
      if (!this.queued || reason === 'zmq' || reason === 'submit') {
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

  private async fetchLoop(reason: TemplateReason, requestedAt: number): Promise<void> {
    let delay = 250;
    while (!this.stopped) {
      const began = performance.now();
      try {
        const raw = await this.rpc.callDirect<unknown>('getblocktemplate', templateRequest(this.network));
        const rpcMs = performance.now() - began;
        this.markUp();
        this.lastWarning = undefined;
        this.deliver(parseBlockTemplate(raw), reason, requestedAt, rpcMs);
        return;
      } catch (err) {
        if (this.isWaitable(err)) {
          this.markDown(err as Error);
        } else if (reason === 'initial') {
          // At start-up a refusal (wrong rules, a template this miner cannot use) is final.
          throw err;
        } else {
          // Once mining, any failure is waited out: a node shutting down or starting can answer
          // getblocktemplate with an internal error (-1) for a moment.
          this.warnOnce(`getblocktemplate failed (${(err as Error).message.split('\n')[0]}); retrying`);
        }
        await sleep(delay, undefined, { signal: this.abort.signal }).catch(() => undefined);
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  private deliver(template: BlockTemplate, reason: TemplateReason, requestedAt: number, rpcMs: number): void {
    const previous = this.lastTemplate;
    this.lastTemplate = template;
    if (this.zmq && previous && previous.previousblockhash !== template.previousblockhash && reason !== 'zmq') {
      this.checkZmqSaw(template.previousblockhash);
    }
    this.emit('template', { template, reason, requestedAt, rpcMs });
  }

  /**
   * The tip moved and ZMQ has not announced it (yet). Unless its notice arrives within the grace
   * period, say once that ZMQ is silent and longpoll until it delivers again.
   */
  private checkZmqSaw(tip: string): void {
    if (this.zmqSeen.has(tip) || this.awaitingZmq.has(tip)) return;
    const timer = setTimeout(() => {
      this.awaitingZmq.delete(tip);
      if (this.stopped || this.zmqSeen.has(tip) || this.zmqSilent) return;
      this.zmqSilent = true;
      this.emit('warning', `ZMQ at ${this.zmq!.endpoint} said nothing of block ${tip} within ${this.zmqGraceMs} ms; relying on longpoll until it delivers again`);
      void this.longpollLoop();
    }, this.zmqGraceMs);
    timer.unref();
    this.awaitingZmq.set(tip, timer);
  }

  private onZmqBlock(n: BlockNotification): void {
    this.zmqSeen.add(n.hash);
    if (this.zmqSeen.size > ZMQ_SEEN_CAP) this.zmqSeen.delete(this.zmqSeen.values().next().value!);
    const waiting = this.awaitingZmq.get(n.hash);
    if (waiting !== undefined) {
      clearTimeout(waiting);
      this.awaitingZmq.delete(n.hash);
    }
    if (this.zmqSilent) {
      this.zmqSilent = false;
      this.emit('warning', `ZMQ at ${this.zmq!.endpoint} is delivering again`);
    }
    void this.request('zmq', n.receivedAt);
  }

  private async longpollLoop(): Promise<void> {
    if (this.longpolling) return;
    this.longpolling = true;
    try {
      let delay = 250;
      while (!this.stopped && !this.usingZmq) {
        const id = this.lastTemplate?.longpollid;
        try {
          const raw = await this.longpollRpc.callDirect<unknown>('getblocktemplate', templateRequest(this.network, id));
          if (this.stopped) return;
          this.markUp();
          delay = 250;
          const template = parseBlockTemplate(raw);
          if (template.longpollid !== this.lastTemplate?.longpollid || template.previousblockhash !== this.lastTemplate?.previousblockhash) {
            this.deliver(template, 'longpoll', performance.now(), 0);
          }
        } catch (err) {
          if (this.stopped) return;
          if (this.isWaitable(err)) this.markDown(err as Error);
          else this.emit('warning', `longpoll: ${(err as Error).message}`);
          await sleep(delay, undefined, { signal: this.abort.signal }).catch(() => undefined);
          delay = Math.min(delay * 2, 5000);
        }
      }
    } finally {
      this.longpolling = false;
    }
  }

  private lastWarning: string | undefined;

  /** Says a repeated failure once, until a fetch succeeds. */
  private warnOnce(message: string): void {
    if (message === this.lastWarning) return;
    this.lastWarning = message;
    this.emit('warning', message);
  }

  private isWaitable(err: unknown): boolean {
    // A refused login or an untrusted certificate mid-run (a node restarting, a certificate
    // being renewed) is waited out like an outage; at start-up the service refuses them.
    return (
      err instanceof NodeUnreachableError ||
      (err instanceof RpcError && NOT_READY_CODES.has(err.code)) ||
      err instanceof NodeAuthError ||
      err instanceof NodeTlsError
    );
  }

  private markDown(err: Error): void {
    if (this.down) return;
    this.down = true;
    this.emit('nodeDown', err);
  }

  private markUp(): void {
    if (!this.down) return;
    this.down = false;
    this.emit('nodeUp');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    for (const timer of this.awaitingZmq.values()) clearTimeout(timer);
    this.awaitingZmq.clear();
    await this.zmq?.close();
    await this.inFlight?.catch(() => undefined);
  }
}
