/**
 * The Stratum V1 pool (docs/stratum.md): a TCP server that hands the orchestrator's jobs to
 * ASICs and other rigs, checks their shares independently, and turns a share that meets the
 * block target into a block through the same journal-first submitter as the local engines'.
 *
 * Holding up: lines over 16 KiB, invalid JSON, unknown methods and wrong types get an error
 * reply or a closed connection and never touch another connection; a connection that sends
 * only garbage is dropped; an idle unsubscribed connection times out; connections are capped
 * in all and per address (a log line when reached); a client that does not read its socket is
 * dropped before its buffer grows without bound. One timer serves every connection.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';

import { addressToScript } from '../bitcoin/address.js';
import { bitsToDifficulty } from '../bitcoin/target.js';
import type { Job } from '../work/job.js';
import { authorize, type AuthorizeOptions, type WorkerIdentity } from './authorize.js';
import { BestShareStore } from './best-shares.js';
import { Connection, type ConnectionHost } from './connection.js';
import { JobBook, type StratumJob } from './job-book.js';
import { LineSplitter, REJECT_REASON, type StratumErrorCode } from './protocol.js';
import type { CheckedShare } from './share.js';
import { WorkerBook, type WorkerSnapshot } from './workers.js';

export const EXTRANONCE1_SIZE = 4;
export const EXTRANONCE2_SIZE = 4;
/** A client's unread output beyond this means it is not reading: drop it. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export interface StratumServerOptions extends AuthorizeOptions {
  readonly host: string;
  readonly port: number;
  /** Difficulty a connection starts at unless it suggests one. */
  readonly startDifficulty: number;
  readonly minDifficulty: number;
  /** Seconds per share vardiff aims at. */
  readonly shareSeconds: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
  /** An unsubscribed or unauthorized connection is closed after this long. */
  readonly idleTimeoutMs: number;
  /** The local engines' extranonce1: never handed to a connection. */
  readonly reservedExtranonce1?: Uint8Array;
  /** Append-only file of each worker's best share (kept across restarts). */
  readonly bestSharesPath: string;
  readonly now?: () => number;
}

/** A share that met the block target, for the orchestrator to turn into a block. */
export interface PoolBlockCandidate {
  readonly job: Job;
  readonly stratumJobId: string;
  readonly share: CheckedShare;
  readonly worker: WorkerIdentity;
  readonly foundAt: number;
}

export interface StratumServerEvents {
  connect: [{ remote: string; total: number }];
  disconnect: [{ remote: string; worker: string | undefined; reason: string; total: number }];
  authorized: [{ remote: string; worker: WorkerIdentity; userAgent: string | undefined }];
  share: [{ worker: WorkerIdentity; owed: number; difficulty: number; hash: string; jobId: string; extranonce: string; ntime: number; nonce: number; version: number }];
  reject: [{ worker: WorkerIdentity | undefined; reason: string; message: string; remote: string }];
  /** A share met the block target: `claim` says what became of it. */
  block: [PoolBlockCandidate];
  /** Milliseconds from `requestedAt` of a new job to the last `mining.notify` written. */
  fanout: [{ connections: number; ms: number; newTip: boolean }];
  warning: [string];
}

interface Peer {
  readonly socket: Socket;
  readonly remote: string;
  readonly address: string;
  readonly conn: Connection;
  readonly splitter: LineSplitter;
  /** Why the server closed it (absent: the miner did). */
  dropReason?: string;
}

export class StratumServer extends EventEmitter<StratumServerEvents> {
  private readonly server: Server;
  private readonly peers = new Set<Peer>();
  private readonly perAddress = new Map<string, number>();
  private readonly book: JobBook;
  private readonly workersBook: WorkerBook;
  private readonly now: () => number;
  private readonly usedExtranonce1 = new Set<string>();
  private extranonceCounter = randomBytes(4).readUInt32BE(0);
  private ticker: NodeJS.Timeout | undefined;
  /** The difficulty of the block being mined: the vardiff ceiling (none before the first job). */
  private netDifficulty = Infinity;
  private capWarned = 0;
  private boundUrl = '';

  private constructor(
    private readonly options: StratumServerOptions,
    private readonly bestShares: BestShareStore,
    /** Turns a share at the block target into a block: true when it was submitted. */
    private readonly claim: (candidate: PoolBlockCandidate) => boolean,
  ) {
    super();
    this.now = options.now ?? Date.now;
    // The orchestrator's own job already pays the operator: that payout needs no variant.
    const operatorKey = Buffer.from(addressToScript(options.operatorAddress, options.network).script).toString('hex');
    this.book = new JobBook(EXTRANONCE1_SIZE, operatorKey);
    this.workersBook = new WorkerBook(this.now, (name) => this.bestShares.get(name));
    if (options.reservedExtranonce1) this.usedExtranonce1.add(Buffer.from(options.reservedExtranonce1).toString('hex'));
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
  }

  static async listen(options: StratumServerOptions, claim: (candidate: PoolBlockCandidate) => boolean, warn: (m: string) => void): Promise<StratumServer> {
    const store = await BestShareStore.open(options.bestSharesPath, warn, options.now);
    const s = new StratumServer(options, store, claim);
    s.on('warning', warn);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', (err: NodeJS.ErrnoException) => reject(new StratumListenError(`--stratum-port: cannot listen on ${options.host}:${options.port}: ${err.code ?? err.message}`)));
      s.server.listen(options.port, options.host, () => resolve());
    });
    s.server.on('error', (err) => s.emit('warning', `stratum: ${err.message}`));
    const addr = s.server.address();
    if (addr && typeof addr === 'object') s.boundUrl = `stratum+tcp://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
    s.ticker = setInterval(() => s.tick(), 1000);
    s.ticker.unref();
    return s;
  }

  /** stratum+tcp://host:port as bound. */
  get url(): string {
    return this.boundUrl;
  }

  get connections(): number {
    return this.peers.size;
  }

  workers(): WorkerSnapshot[] {
    return this.workersBook.snapshot();
  }

  /** A new orchestrator job: every ready connection gets its variant at once. */
  setJob(job: Job, newTip: boolean, requestedAt = performance.now()): void {
    this.netDifficulty = bitsToDifficulty(job.bits);
    this.book.setJob(job, newTip);
    let sent = 0;
    for (const peer of this.peers) {
      if (!peer.conn.ready) continue;
      if (newTip) peer.conn.forgetJobs((id) => this.book.find(id) !== undefined);
      if (this.sendJob(peer)) sent++;
    }
    this.emit('fanout', { connections: sent, ms: performance.now() - requestedAt, newTip });
  }

  /** A block was found on `tip` (here or by a local engine): its jobs are stale from now on. */
  retireTip(tip: string): void {
    this.book.retireTip(tip);
  }

  async close(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const p of this.peers) p.socket.destroy();
    });
    await this.bestShares.close();
  }

  // --- connections ---------------------------------------------------------------------

  private accept(socket: Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    const remote = `${address}:${socket.remotePort ?? 0}`;
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (this.peers.size >= this.options.maxConnections || fromAddress >= this.options.maxConnectionsPerAddress) {
      const which = this.peers.size >= this.options.maxConnections ? `${this.options.maxConnections} connections in all (--stratum-max-connections)` : `${this.options.maxConnectionsPerAddress} from ${address} (--stratum-max-per-address)`;
      // Said once a minute at most: a flood must not flood the log too.
      if (this.now() - this.capWarned > 60_000) {
        this.capWarned = this.now();
        this.emit('warning', `stratum: connection limit reached: ${which}; refusing new connections`);
      }
      socket.destroy();
      return;
    }
    this.perAddress.set(address, fromAddress + 1);
    const extranonce1 = this.allocateExtranonce1();
    const host: ConnectionHost = {
      now: this.now,
      extranonce1,
      extranonce2Size: EXTRANONCE2_SIZE,
      vardiff: { targetSeconds: this.options.shareSeconds, minDifficulty: this.options.minDifficulty, startDifficulty: this.options.startDifficulty },
      networkDifficulty: () => this.netDifficulty,
      authorize: (username, password) => authorize(username, password, this.options),
      currentJob: (worker) => this.book.jobFor(worker.payoutKey, worker.payoutScript),
      findJob: (id) => this.book.find(id),
      shareAccepted: (conn, worker, owed, share, job) => this.onShare(peer, worker, owed, share, job),
      shareRejected: (conn, worker, code, message) => this.onReject(peer, worker, code, message),
      ready: () => this.onReady(peer),
    };
    const conn = new Connection(host, (text) => this.write(peer, text));
    const peer: Peer = { socket, remote, address, conn, splitter: new LineSplitter() };
    this.peers.add(peer);
    socket.setEncoding('utf8');
    socket.setKeepAlive(true, 60_000);
    socket.on('data', (chunk: string) => this.onData(peer, chunk));
    socket.on('error', () => undefined); // a reset is a disconnect, reported on close
    socket.on('close', () => this.onClose(peer, extranonce1));
    this.emit('connect', { remote, total: this.peers.size });
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

  private onClose(peer: Peer, extranonce1: Buffer): void {
    if (!this.peers.delete(peer)) return;
    this.usedExtranonce1.delete(extranonce1.toString('hex'));
    const n = (this.perAddress.get(peer.address) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(peer.address);
    else this.perAddress.set(peer.address, n);
    const worker = peer.conn.worker;
    if (worker) this.workersBook.disconnected(worker.name);
    this.emit('disconnect', { remote: peer.remote, worker: worker?.name, reason: peer.dropReason ?? 'closed by the miner', total: this.peers.size });
  }

  private onReady(peer: Peer): void {
    const worker = peer.conn.worker!;
    this.workersBook.connected(worker.name, worker.worker, worker.address, peer.conn.userAgent);
    this.emit('authorized', { remote: peer.remote, worker, userAgent: peer.conn.userAgent });
    this.sendJob(peer);
  }

  private sendJob(peer: Peer): boolean {
    const worker = peer.conn.worker;
    if (!worker) return false;
    const job = this.book.jobFor(worker.payoutKey, worker.payoutScript);
    if (!job) return false;
    peer.conn.sendJob(job, job.notifyLine);
    this.workersBook.difficulty(worker.name, peer.conn.difficulty);
    return true;
  }

  private onShare(peer: Peer, worker: WorkerIdentity, owed: number, share: CheckedShare, job: StratumJob): void {
    this.workersBook.accepted(worker.name, worker.worker, worker.address, owed, share.difficulty);
    this.bestShares.offer(worker.name, share.difficulty);
    const hash = Buffer.from(share.hash).reverse().toString('hex');
    this.emit('share', { worker, owed, difficulty: share.difficulty, hash, jobId: job.id, extranonce: share.extranonce.toString('hex'), ntime: share.ntime, nonce: share.nonce, version: share.version });
    if (share.isBlock) {
      const candidate: PoolBlockCandidate = { job: job.prepared.job, stratumJobId: job.id, share, worker, foundAt: performance.now() };
      this.emit('block', candidate);
      if (this.claim(candidate)) this.workersBook.blockFound(worker.name);
    }
  }

  private onReject(peer: Peer, worker: WorkerIdentity | undefined, code: StratumErrorCode, message: string): void {
    const reason = REJECT_REASON[code];
    if (worker) this.workersBook.rejected(worker.name, worker.worker, worker.address, reason);
    this.emit('reject', { worker, reason, message, remote: peer.remote });
  }

  private tick(): void {
    const now = this.now();
    for (const peer of this.peers) {
      const c = peer.conn;
      if (!c.ready) {
        if (now - c.connectedAt > this.options.idleTimeoutMs) this.drop(peer, 'not subscribed and authorized in time');
        continue;
      }
      c.tick();
      if (c.difficultyChangeDue) this.sendJob(peer);
    }
  }

  private allocateExtranonce1(): Buffer {
    const buf = Buffer.alloc(EXTRANONCE1_SIZE);
    for (;;) {
      this.extranonceCounter = (this.extranonceCounter + 1) >>> 0;
      buf.writeUInt32BE(this.extranonceCounter);
      const key = buf.toString('hex');
      if (!this.usedExtranonce1.has(key)) {
        this.usedExtranonce1.add(key);
        return buf;
      }
    }
  }
}

export class StratumListenError extends Error {
  override readonly name = 'StratumListenError';
}
