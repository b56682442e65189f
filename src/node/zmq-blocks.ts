// New-tip notifications from the node's ZMQ `hashblock` publisher (Bitcoin Core doc/zmq.md):
// a three-part message: topic "hashblock", the 32-byte block hash, a 4-byte little-endian
// sequence number. A gap in the sequence means notifications were lost; the caller treats it
// like any other notification (fetch a template), so nothing more is needed than to say so.
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
  error: [Error];
}

export class ZmqBlockSubscriber extends EventEmitter<ZmqBlockEvents> {
  readonly endpoint: string;
  private readonly socket = new Subscriber();
  private lastSequence: number | undefined;
  private closed = false;
  private loop: Promise<void> | undefined;
  private onConnect: (() => void) | undefined;
  /** Resolves once the socket has connected to the publisher (its subscription follows at once). */
  readonly connected: Promise<void> = new Promise((resolve) => (this.onConnect = resolve));

  constructor(endpoint: string) {
    super();
    this.endpoint = endpoint;
  }

  /** Connects and starts reading; ZMQ reconnects by itself if the node goes away. */
  start(): void {
    this.socket.events.on('connect', () => this.onConnect?.());
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
        if (this.lastSequence !== undefined && sequence >= 0 && sequence !== ((this.lastSequence + 1) >>> 0)) {
          this.emit('gap', (sequence - this.lastSequence - 1) >>> 0);
        }
        if (sequence >= 0) this.lastSequence = sequence;
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
