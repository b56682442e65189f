/**
 * The Stratum V1 wire of the pool (docs/stratum.md): a TCP server that hands the pool's jobs
 * (../pool-core.ts) to ASICs and other rigs as `mining.notify` lines and passes their shares to
 * the pool's checks.
 *
 * Holding up: lines over 16 KiB, invalid JSON, unknown methods and wrong types get an error
 * reply or a closed connection and never touch another connection; a connection that sends
 * only garbage is dropped; an idle unsubscribed connection times out; connections are capped
 * in all and per address (the pool's budget, shared with Stratum V2); a client that does not
 * read its socket is dropped before its buffer grows without bound.
 * @module
 */
import { createServer, type Server, type Socket } from 'node:net';

import type { StratumJob } from '../job-book.js';
import { admit, closeAll, listenOn } from '../listener.js';
import { EXTRANONCE_ROLLABLE_SIZE, type PoolCore, type Wire } from '../pool-core.js';
import { Connection, type ConnectionHost } from './connection.js';
import { LineSplitter, notificationLine, notifyParams } from './protocol.js';

/** A client's unread output beyond this means it is not reading: drop it. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;

export interface V1ServerOptions {
  readonly host: string;
  readonly port: number;
}

interface Peer {
  readonly socket: Socket;
  readonly remote: string;
  readonly address: string;
  readonly conn: Connection;
  readonly splitter: LineSplitter;
  readonly extranonce1: Buffer;
  /** Why the server closed it (absent: the miner did). */
  dropReason?: string;
}

/** The `mining.notify` line of each job, serialized once for every connection that gets it. */
const notifyLines = new WeakMap<StratumJob, string>();

export function notifyLineOf(job: StratumJob): string {
  let line = notifyLines.get(job);
  if (line === undefined) {
    line = notificationLine('mining.notify', notifyParams(job.id, job.prepared.job, job.ntime, job.cleanJobs));
    notifyLines.set(job, line);
  }
  return line;
}

export class V1Server implements Wire {
  readonly protocol = 'v1' as const;
  private readonly server: Server;
  private readonly peers = new Set<Peer>();
  private boundUrl = '';

  private constructor(private readonly core: PoolCore) {
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
  }

  /** Listens on host:port and attaches to `core`; StratumListenError when the port is taken. */
  static async listen(core: PoolCore, options: V1ServerOptions): Promise<V1Server> {
    const s = new V1Server(core);
    const bound = await listenOn(s.server, options.host, options.port, '--stratum-port', core, 'stratum');
    s.boundUrl = `stratum+tcp://${bound.family === 'IPv6' ? `[${bound.host}]` : bound.host}:${bound.port}`;
    core.attach(s, { v1Url: s.boundUrl });
    return s;
  }

  get url(): string {
    return this.boundUrl;
  }

  get connections(): number {
    return this.peers.size;
  }

  broadcast(newTip: boolean): number {
    let sent = 0;
    for (const peer of this.peers) {
      if (!peer.conn.ready) continue;
      if (newTip) peer.conn.forgetJobs((id) => this.core.book.find(id) !== undefined);
      if (this.sendJob(peer)) sent++;
    }
    return sent;
  }

  tick(now: number): void {
    for (const peer of this.peers) {
      const c = peer.conn;
      if (!c.ready) {
        if (now - c.connectedAt > this.core.options.idleTimeoutMs) this.drop(peer, 'not subscribed and authorized in time');
        continue;
      }
      c.tick();
      if (c.difficultyChangeDue) this.sendJob(peer);
    }
  }

  close(): Promise<void> {
    return closeAll(this.server, [...this.peers].map((p) => p.socket));
  }

  // --- connections ---------------------------------------------------------------------

  private accept(socket: Socket): void {
    const admitted = admit(this.core, socket, 'v1');
    if (!admitted) return;
    const { address, remote } = admitted;
    const core = this.core;
    const extranonce1 = core.allocateExtranonce();
    const host: ConnectionHost = {
      ...core.sessionHost,
      extranonce1,
      extranonce2Size: EXTRANONCE_ROLLABLE_SIZE,
      authorize: (username, password) => core.authorize(username, password),
      shareAccepted: (_conn, worker, owed, share, job) => core.accepted(worker, owed, share, job, 'v1'),
      shareRejected: (_conn, worker, kind, message) => core.rejected(worker, kind, message, remote, 'v1'),
      ready: () => this.onReady(peer),
    };
    const conn = new Connection(host, (text) => this.write(peer, text));
    const peer: Peer = { socket, remote, address, conn, splitter: new LineSplitter(), extranonce1 };
    this.peers.add(peer);
    socket.setEncoding('utf8');
    socket.setKeepAlive(true, 60_000);
    socket.on('data', (chunk: string) => this.onData(peer, chunk));
    socket.on('error', () => undefined); // a reset is a disconnect, reported on close
    socket.on('close', () => this.onClose(peer));
  }

  private onData(peer: Peer, chunk: string): void {
    const lines = peer.splitter.push(chunk);
    if (lines === 'too-long') return this.drop(peer, 'a line over 16 KiB');
    for (const line of lines) {
      peer.conn.handleLine(line);
      if (peer.conn.closeReason !== undefined) return this.drop(peer, peer.conn.closeReason);
      // A new difficulty (vardiff after a share, a miner's suggestion) goes out with a job at
      // once: firmware applies a difficulty only to jobs that come after it.
      if (peer.conn.ready && peer.conn.difficultyChangeDue) this.sendJob(peer);
    }
  }

  private write(peer: Peer, text: string): void {
    if (peer.socket.destroyed) return;
    if (peer.socket.writableLength > MAX_BUFFERED_BYTES) return this.drop(peer, 'not reading its socket');
    peer.socket.write(text);
  }

  private drop(peer: Peer, reason: string): void {
    peer.dropReason = reason;
    peer.socket.destroy();
  }

  private onClose(peer: Peer): void {
    if (!this.peers.delete(peer)) return;
    this.core.freeExtranonce(peer.extranonce1);
    const worker = peer.conn.worker;
    if (worker && peer.conn.ready) this.core.workerDisconnected(worker.name, 'v1');
    this.core.release(peer.address, peer.remote, 'v1', worker?.name, peer.dropReason ?? 'closed by the miner');
  }

  private onReady(peer: Peer): void {
    const worker = peer.conn.worker!;
    this.core.workerConnected(worker, peer.conn.userAgent, peer.remote, 'v1');
    this.sendJob(peer);
  }

  private sendJob(peer: Peer): boolean {
    const worker = peer.conn.worker;
    if (!worker) return false;
    const job = this.core.jobFor(worker);
    if (!job) return false;
    peer.conn.sendJob(job, notifyLineOf(job));
    this.core.workerDifficulty(worker.name, peer.conn.difficulty);
    return true;
  }
}
