// One node as the miner sees it (docs/architecture.md, "Nodes"): its RPC clients, its ZMQ
// publisher, and its health — reachable, on the miner's chain, ready to hand out work — judged by
// a probe that runs when something happens (a call failed, ZMQ dropped or came back) and at a
// steady pace besides, because a node gives no event when it restarts, starts a reindex, falls
// behind or is swapped for another chain's node under the same URL.
//
// A node that comes (back) into contact — the first time, after an outage, after a restart seen by
// its uptime or its ZMQ sequence — passes through the gate before it counts as usable: the
// service's gate hands back the blocks it forgot (a kill -9 loses what it had not flushed), so
// that no new work is ever mined on a node missing our blocks.
import { EventEmitter } from 'node:events';

import { credentialsOf, type NodeSettings } from './credentials.js';
import { NodeAuthError, NodeTlsError, NodeUnreachableError, RpcError } from './errors.js';
import type { ChainInfo } from './node-checks.js';
import { networkOfChain, type Network } from './networks.js';
import { isNotReadyError, RPC_IN_WARMUP } from './rpc-codes.js';
import { RpcClient } from './rpc-client.js';
import { ZmqBlockSubscriber, type BlockNotification } from './zmq-blocks.js';

/** One configured node: where its RPC is, how to log in, and its ZMQ hashblock endpoint. */
export interface NodeEntry extends NodeSettings {
  readonly zmq?: string | undefined;
}

/**
 * - connecting: not heard from yet;
 * - ok: serves work;
 * - restoring: back in contact, being handed the blocks it forgot (not used for work meanwhile);
 * - unreachable: no answer (refused, reset, timed out, HTTP 5xx);
 * - not-ready: answers, but cannot hand out work worth mining: starting up, reindexing, in initial
 *   block download, behind its own headers, without peers on mainnet;
 * - wrong-chain: answers for another chain than the miner's (never used until it is back on it);
 * - refused: the login or its TLS certificate is refused.
 */
export type NodeState = 'connecting' | 'ok' | 'restoring' | 'unreachable' | 'not-ready' | 'wrong-chain' | 'refused';

export interface NodeHealth {
  readonly state: NodeState;
  /** Why it is not ok, one line (null when ok). */
  readonly reason: string | null;
  /** Date.now() when it entered this state. */
  readonly since: number;
  /** The node's tip as last seen (probe, template or ZMQ). */
  readonly height: number | null;
  readonly tip: string | null;
}

export interface NodeLinkOptions {
  readonly network: Network;
  /** 1-based position in the configuration: templates come from the first usable node. */
  readonly index: number;
  /** Limit on one probe call (default 5000 ms): a node that takes longer counts as stalled. */
  readonly probeTimeoutMs?: number;
  /** ZMTP heartbeat timeout of the ZMQ subscription (zmq-blocks.ts). */
  readonly zmqHeartbeatMs?: number;
  readonly now?: () => number;
}

export interface NodeLinkEvents {
  /** The health changed (the previous health is the argument; `health` holds the new one). */
  health: [NodeHealth];
  /** A hashblock notice from this node's ZMQ. */
  block: [BlockNotification];
  /** Something about this node's ZMQ an operator should know (said once per occurrence). */
  zmqWarning: [string];
  /** The node was restarted (its uptime, or its ZMQ sequence, started over). */
  restarted: [string];
}

/** The gate a node passes before it is used: `why` says what brought it (back) into contact. */
export type NodeGate = (link: NodeLink, why: string) => Promise<void>;

/** Hashes of recent ZMQ notices kept per node, to match against tips seen by RPC. */
const ZMQ_SEEN_CAP = 4096;
/** A node whose start time moved by more than this was restarted (uptime has one-second steps). */
const RESTART_SLACK_S = 3;

export class NodeLink extends EventEmitter<NodeLinkEvents> {
  readonly index: number;
  /** The RPC URL as configured (it never holds credentials: the configuration refuses them). */
  readonly name: string;
  readonly entry: NodeEntry;
  /** Calls of the mining path (templates, submissions, headers): the default 30 s limit. */
  readonly rpc: RpcClient;
  /** Health probes: a short limit, so a stalled node is told within seconds. */
  readonly probeRpc: RpcClient;
  /** Longpoll: no limit. */
  readonly longpollRpc: RpcClient;
  readonly zmq: ZmqBlockSubscriber | undefined;
  private readonly network: Network;
  private readonly probeTimeoutMs: number;
  private readonly now: () => number;
  private current: NodeHealth;
  private probing: Promise<void> | undefined;
  /** Aborts the probe's calls in flight at stop(). */
  private readonly stopAbort = new AbortController();
  private probeAgain = false;
  private gate: NodeGate | undefined;
  /** Why the node must pass the gate before it is used again (undefined: it need not). */
  private gateDue: string | undefined = 'first contact';
  private gating: Promise<void> | undefined;
  /** Seconds since the epoch at which the node last started, from its uptime. */
  private startedAtS: number | undefined;
  private readonly zmqSeen = new Set<string>();
  /** The gate has run since ZMQ last lost the publisher (its sequence restarting then is that same comeback). */
  private gatedSinceZmqDrop = false;
  /** ZMQ said nothing of a tip the RPC showed: longpoll stands in (template-source.ts sets it). */
  zmqSilent = false;
  private stopped = false;
  /**
   * Chain facts of the last good probe. Nodes are compared by these (probed together, at one
   * pace), not by the tip a template showed, which is fresher for the node work comes from.
   */
  chain: ChainInfo | undefined;

  constructor(entry: NodeEntry, options: NodeLinkOptions) {
    super();
    this.entry = entry;
    this.index = options.index;
    this.name = entry.rpcUrl;
    this.network = options.network;
    this.now = options.now ?? Date.now;
    this.rpc = new RpcClient({ url: entry.rpcUrl, credentials: credentialsOf(entry), caFile: entry.rpcCa });
    this.probeTimeoutMs = options.probeTimeoutMs ?? 5000;
    this.probeRpc = this.rpc.withTimeout(this.probeTimeoutMs);
    // bitcoin-core's 30 s limit would cut every longpoll short: this client has none.
    this.longpollRpc = this.rpc.withTimeout(0);
    this.zmq = entry.zmq !== undefined ? new ZmqBlockSubscriber(entry.zmq, { ...(options.zmqHeartbeatMs !== undefined && { heartbeatTimeoutMs: options.zmqHeartbeatMs }) }) : undefined;
    this.current = { state: 'connecting', reason: null, since: this.now(), height: null, tip: null };
  }

  get health(): NodeHealth {
    return this.current;
  }

  get usable(): boolean {
    return this.current.state === 'ok';
  }

  /** "node 2 (http://10.0.0.5:8332)": how logs name it. */
  get label(): string {
    return `node ${this.index} (${this.name})`;
  }

  /** ZMQ's state for status: none (not configured), connected, disconnected, silent. */
  get zmqState(): 'none' | 'connected' | 'disconnected' | 'silent' {
    if (!this.zmq) return 'none';
    if (!this.zmq.isConnected) return 'disconnected';
    return this.zmqSilent ? 'silent' : 'connected';
  }

  /** The gate every (re)connection passes before the node is used. */
  setGate(gate: NodeGate): void {
    this.gate = gate;
  }

  /** Starts the ZMQ subscription (ZMQ reconnects by itself when the node goes and comes back). */
  startZmq(): void {
    const zmq = this.zmq;
    if (!zmq) return;
    zmq.on('block', (n) => {
      this.zmqSeen.add(n.hash);
      if (this.zmqSeen.size > ZMQ_SEEN_CAP) this.zmqSeen.delete(this.zmqSeen.values().next().value!);
      this.emit('block', n);
    });
    zmq.on('gap', (missed) => this.emit('zmqWarning', `ZMQ at ${zmq.endpoint}: ${missed} block notification(s) lost; fetched a fresh template`));
    zmq.on('error', (err) => this.emit('zmqWarning', `ZMQ at ${zmq.endpoint}: ${err.message}`));
    // The publisher went away or came back: the node stopped, or was restarted. Ask it now
    // rather than at the next probe.
    zmq.on('disconnect', () => {
      this.gatedSinceZmqDrop = false;
      void this.probeSoon();
    });
    zmq.on('connect', ({ again }) => {
      if (again) this.probeSoon();
    });
    zmq.on('restart', () => {
      // A comeback the gate has already seen to (the blocks it was handed are what it announces).
      if (this.gatedSinceZmqDrop) return;
      this.markRestarted('its ZMQ sequence started over');
      void this.probeSoon();
    });
    zmq.start();
  }

  /** Whether this node's ZMQ announced `hash`. */
  zmqAnnounced(hash: string): boolean {
    return this.zmqSeen.has(hash);
  }

  /** A tip this node showed (a template's parent): status and the tracker read it from here. */
  sawTip(hash: string, height: number): void {
    if (this.current.tip === hash && this.current.height === height) return;
    this.current = { ...this.current, tip: hash, height };
  }

  /**
   * The node showed a tip lower than one it showed before, or answered as if it lacked our
   * block: it may have lost blocks (a crash) — through the gate again before it is used.
   */
  suspect(why: string): void {
    this.markRestarted(why);
    this.probeSoon();
  }

  private markRestarted(why: string): void {
    if (this.gateDue === undefined) this.emit('restarted', why);
    this.gateDue ??= why;
  }

  /** A call on this node failed: ask it now what state it is in. */
  fault(): void {
    this.probeSoon();
  }

  /** Probes now (coalesced with a probe in flight: one more runs after it). */
  probeSoon(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.probing) {
      this.probeAgain = true;
      return this.probing;
    }
    this.probing = (async () => {
      try {
        do {
          this.probeAgain = false;
          await this.probeOnce();
        } while (this.probeAgain && !this.stopped);
      } finally {
        this.probing = undefined;
      }
    })();
    return this.probing;
  }

  /**
   * A probe's call: bounded by the probe timeout, and dropped at stop() (a stop must not wait up
   * to the timeout for a node that hangs: docker stop gives the process 10 s in all).
   */
  private probeCall<T>(method: string): Promise<T> {
    return this.probeRpc.callDirectAbortable<T>(this.stopAbort.signal, method);
  }

  private async probeOnce(): Promise<void> {
    let info: ChainInfo;
    let uptime: number | undefined;
    try {
      [info, uptime] = await Promise.all([
        this.probeCall<ChainInfo>('getblockchaininfo'),
        // Knots and Core since 0.15 answer it; a node without it is judged by the rest.
        this.probeCall<number>('uptime').catch((err: unknown) => {
          if (err instanceof RpcError) return undefined;
          throw err;
        }),
      ]);
    } catch (err) {
      this.judgeFailure(err);
      return;
    }
    if (this.stopped) return;
    this.chain = info;
    const tip = { tip: info.bestblockhash, height: info.blocks };
    const chainNetwork = networkOfChain(info.chain);
    if (chainNetwork !== this.network) {
      this.gateDue ??= 'it was on another chain';
      this.set('wrong-chain', `it is on chain "${info.chain}"${chainNetwork ? ` (${chainNetwork})` : ''}, but the miner is set to ${this.network}`, tip);
      return;
    }
    if (uptime !== undefined && Number.isFinite(uptime)) {
      const startedAtS = this.now() / 1000 - uptime;
      if (this.startedAtS !== undefined && startedAtS - this.startedAtS > RESTART_SLACK_S) this.markRestarted(`it was restarted (up ${Math.round(uptime)} s)`);
      this.startedAtS = startedAtS;
    }
    const notReady = await this.notReadyReason(info);
    if (notReady !== undefined) {
      this.set('not-ready', notReady, tip);
      return;
    }
    await this.passGate(tip);
  }

  /** Why a node that answers cannot hand out work worth mining (undefined: it can). */
  private async notReadyReason(info: ChainInfo): Promise<string | undefined> {
    const progress = `${info.blocks} of ${info.headers} blocks`;
    // A node still connecting blocks it has headers for (catching up, reindexing) would hand
    // out work on a tip it is about to leave. One header ahead is a block on its way in.
    if (info.headers > info.blocks + 1) return `catching up (${progress}${info.initialblockdownload ? ', initial block download' : ''})`;
    if (this.network === 'main') {
      // Bitcoin Core refuses work on mainnet without peers, then in IBD (rpc/mining.cpp, in that
      // order); test chains skip both checks, and a fresh regtest chain is "in IBD" until its
      // first block.
      const peers = await this.probeCall<number>('getconnectioncount').catch(() => undefined);
      if (peers === 0) return 'no peers: a block mined now could not reach the network';
      if (info.initialblockdownload) return `in initial block download (${(info.verificationprogress * 100).toFixed(2)}% verified, ${progress})`;
    }
    return undefined;
  }

  /** The node answers and is ready: through the gate first when it is (back) in contact. */
  private async passGate(tip: { tip: string; height: number }): Promise<void> {
    if (this.gateDue === undefined || this.gate === undefined) {
      this.gateDue = undefined;
      this.set('ok', null, tip);
      return;
    }
    const why = this.gateDue;
    this.set('restoring', `checking it still holds our blocks (${why})`, tip);
    this.gating ??= this.gate(this, why).finally(() => (this.gating = undefined));
    try {
      await this.gating;
    } catch (err) {
      // The node went away (or refused) in the middle: the gate runs again on its return.
      this.judgeFailure(err);
      return;
    }
    if (this.stopped) return;
    this.gatedSinceZmqDrop = true;
    // A restart noticed while the gate ran sends it through again.
    if (this.gateDue === why) this.gateDue = undefined;
    if (this.gateDue === undefined) this.set('ok', null, tip);
    else this.probeAgain = true;
  }

  private judgeFailure(err: unknown): void {
    if (this.stopped) return;
    const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    if (err instanceof NodeAuthError || err instanceof NodeTlsError) {
      // A restarting node rewrites its cookie: refused now may be answered after the restart.
      this.gateDue ??= 'its login was refused';
      this.set('refused', message, undefined);
    } else if (isNotReadyError(err)) {
      this.gateDue ??= 'it was starting up';
      this.set('not-ready', err.code === RPC_IN_WARMUP ? `starting up (${err.message.replace(/^\w+: node error -?\d+: /, '')})` : err.message, undefined);
    } else if (err instanceof NodeUnreachableError) {
      // Back after an outage, it may be a node that lost what it had not flushed.
      this.gateDue ??= 'it was unreachable';
      const stalled = /TIMEDOUT/.test(err.reason);
      this.set('unreachable', stalled ? `${err.url} gave no answer within ${Math.round(this.probeTimeoutMs / 1000)} s (stalled)` : message, undefined);
    } else {
      this.gateDue ??= 'it failed a call';
      this.set('unreachable', message, undefined);
    }
  }

  private set(state: NodeState, reason: string | null, tip: { tip: string; height: number } | undefined): void {
    const previous = this.current;
    const next: NodeHealth = {
      state,
      reason,
      since: previous.state === state ? previous.since : this.now(),
      height: tip?.height ?? previous.height,
      tip: tip?.tip ?? previous.tip,
    };
    this.current = next;
    // Said once per state: a node catching up does not announce every block it connects.
    if (previous.state !== state) this.emit('health', previous);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopAbort.abort();
    await this.zmq?.close();
    await this.probing?.catch(() => undefined);
  }
}
