// New-tip notifications from the node's ZMQ `hashblock` publisher (Bitcoin Core doc/zmq.md):
// a three-part message: topic "hashblock", the 32-byte block hash, a 4-byte little-endian
// sequence number. A gap in the sequence means notifications were lost; the caller treats it
// like any other notification (fetch a template), so nothing more is needed than to say so.
//
// The sequence is the publisher's own counter: it starts at 0 whenever the node starts. So a
// number lower than the last one, or any number on a connection made again after the old one
// dropped, is a restarted node — never a gap of four billion notifications (the difference of
// two unrelated counters taken modulo 2^32). A restart is worth knowing for itself: a node that
// was killed may have forgotten blocks it accepted (the caller hands them back).
import { EventEmitter } from 'node:events';

import { Subscriber } from 'zeromq';

export interface BlockNotification {
  /** Display hex of the new block's hash. */
  readonly hash: string;
  readonly sequence: number;
  /** performance.now() when the message was read, for latency measurements. */
  readonly receivedAt: number;
}

export interface ZmqBlockEvents {
  block: [BlockNotification];
  /** Sequence numbers skipped: notifications lost between publisher and us. */
  gap: [number];
  /** The publisher started again (its sequence restarted): the node was restarted. */
  restart: [{ readonly sequence: number }];
  /** The connection to the publisher dropped (the node stopped, or the network between). */
  disconnect: [];
  /** Connected to the publisher: `again` after a dropped connection. */
  connect: [{ readonly again: boolean }];
  error: [Error];
}

/** How far apart two sequences must be, near the top of the counter, to be read as a wrap-around. */
const WRAP_MARGIN = 0x10000;

/**
 * What a new sequence number says after `last` (undefined: the first one heard). `fresh`: the
 * connection was made again since `last`, so `sequence` belongs to a counter that may have started
 * over. Pure, for the tests of the spec's counter.
 */
export function sequenceStep(last: number | undefined, sequence: number, fresh = false): { kind: 'first' | 'next' | 'restart' } | { kind: 'gap'; missed: number } {
  if (last === undefined) return { kind: 'first' };
  if (sequence === ((last + 1) >>> 0)) return { kind: 'next' };
  // A counter that went backwards started again, unless it merely wrapped past 2^32 - 1 (four
  // billion notifications: a gap near the top of the counter shows up as a small number after it).
  const wrapped = last > 0xffffffff - WRAP_MARGIN && sequence < WRAP_MARGIN;
  if (fresh || (sequence <= last && !wrapped)) return { kind: 'restart' };
  return { kind: 'gap', missed: (sequence - last - 1) >>> 0 };
}

export interface ZmqBlockOptions {
  /**
   * ZMTP heartbeats: a connection that carries no PONG for this long is dropped and made again,
   * so a publisher that has gone silent behind a live TCP connection (a stalled proxy, a frozen
   * host) is noticed. Default 10 000 ms; 0 for none.
   */
  readonly heartbeatTimeoutMs?: number;
}

export class ZmqBlockSubscriber extends EventEmitter<ZmqBlockEvents> {
  readonly endpoint: string;
  private readonly socket: Subscriber;
  private lastSequence: number | undefined;
  private closed = false;
  private loop: Promise<void> | undefined;
  private onConnect: (() => void) | undefined;
  /** The connection dropped since the last message: the next sequence may be a new counter's. */
  private reconnected = false;
  private everConnected = false;
  private up = false;
  /** Resolves once the socket has connected to the publisher (its subscription follows at once). */
  readonly connected: Promise<void> = new Promise((resolve) => (this.onConnect = resolve));

  constructor(endpoint: string, options: ZmqBlockOptions = {}) {
    super();
    this.endpoint = endpoint;
    const timeout = options.heartbeatTimeoutMs ?? 10_000;
    this.socket = new Subscriber(timeout > 0 ? { heartbeatInterval: Math.max(100, Math.round(timeout / 3)), heartbeatTimeout: timeout } : {});
  }

  /** Whether the socket is connected to the publisher now. */
  get isConnected(): boolean {
    return this.up;
  }

  /** Connects and starts reading; ZMQ reconnects by itself if the node goes away. */
  start(): void {
    this.socket.events.on('connect', () => {
      const again = this.everConnected;
      this.everConnected = true;
      this.up = true;
      if (again) this.reconnected = true;
      this.onConnect?.();
      this.emit('connect', { again });
    });
    this.socket.events.on('disconnect', () => {
      if (this.closed) return;
      this.up = false;
      this.emit('disconnect');
    });
    this.socket.connect(this.endpoint);
    this.socket.subscribe('hashblock');
    this.loop = this.read();
  }

  private async read(): Promise<void> {
    try {
      for await (const parts of this.socket) {
        const [topic, body, seq] = parts;
        if (topic?.toString() !== 'hashblock' || body?.length !== 32) continue;
        const sequence = seq && seq.length === 4 ? seq.readUInt32LE(0) : -1;
        if (sequence >= 0) {
          const step = sequenceStep(this.lastSequence, sequence, this.reconnected);
          this.reconnected = false;
          if (step.kind === 'gap') this.emit('gap', step.missed);
          else if (step.kind === 'restart') this.emit('restart', { sequence });
          this.lastSequence = sequence;
        }
        this.emit('block', { hash: Buffer.from(body).toString('hex'), sequence, receivedAt: performance.now() });
      }
    } catch (err) {
      if (!this.closed) this.emit('error', err instanceof Error ? err : new Error(String(err)));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
    await this.loop;
  }
}
