/**
 * The pool without its wire (docs/stratum.md): one job book, one worker book, one best-share
 * store, one extranonce space, one connection budget and one path for blocks, shared by every
 * wire that serves it — Stratum V1 (v1/server.ts) and Stratum V2 (v2/server.ts). A wire turns
 * bytes into sessions (session.ts) and verdicts into replies; everything a share means for the
 * operator (counts, best shares, the hourly report, a block through the orchestrator's own rules
 * and the journal-first submitter) happens here, the same whichever wire it came on.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';

import { addressToScript } from '../bitcoin/address.js';
import { bitsToDifficulty } from '../bitcoin/target.js';
import type { Job } from '../work/job.js';
import { authorize, type AuthorizeOptions, type Verdict, type WorkerIdentity } from './authorize.js';
import { BestShareStore } from './best-shares.js';
import { JobBook, type StratumJob } from './job-book.js';
import type { SessionHost } from './session.js';
import { REJECT_REASON, type CheckedShare, type RejectKind } from './share.js';
import { WorkerBook, type WorkerSnapshot } from './workers.js';

/** The pool's part of every extranonce: unique per V1 connection and per V2 channel. */
export const EXTRANONCE_PREFIX_SIZE = 4;
/** The miner's part (V1 extranonce2, a V2 extended channel's extranonce_size). */
export const EXTRANONCE_ROLLABLE_SIZE = 4;

/** The wires a pool speaks. */
export type WireProtocol = 'v1' | 'v2';

export interface PoolCoreOptions extends AuthorizeOptions {
  /** Difficulty a miner starts at unless it suggests one. */
  readonly startDifficulty: number;
  readonly minDifficulty: number;
  /** Seconds per share vardiff aims at. */
  readonly shareSeconds: number;
  /** Connections in all, over every wire. */
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
  /** A connection not mining (V1: subscribed and authorized; V2: a channel open) after this long is closed. */
  readonly idleTimeoutMs: number;
  /** The local engines' extranonce1: never handed to a miner. */
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
  readonly protocol: WireProtocol;
  readonly foundAt: number;
}

export interface PoolCoreEvents {
  connect: [{ remote: string; total: number; protocol: WireProtocol }];
  disconnect: [{ remote: string; worker: string | undefined; reason: string; total: number; protocol: WireProtocol }];
  authorized: [{ remote: string; worker: WorkerIdentity; userAgent: string | undefined; protocol: WireProtocol }];
  share: [{ worker: WorkerIdentity; owed: number; difficulty: number; hash: string; jobId: string; extranonce: string; ntime: number; nonce: number; version: number; protocol: WireProtocol }];
  reject: [{ worker: WorkerIdentity | undefined; reason: string; message: string; remote: string; protocol: WireProtocol }];
  /** A share met the block target: `claim` says what became of it. */
  block: [PoolBlockCandidate];
  /** Milliseconds from `requestedAt` of a new job to the last job message written on a wire. */
  fanout: [{ connections: number; ms: number; newTip: boolean; protocol: WireProtocol }];
  warning: [string];
}

/** Where a Stratum V2 miner connects, as the start-up line, check, /status and the dashboard show it. */
export interface Sv2Endpoint {
  /** stratum2+tcp://host:port/<authority key> */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The authority public key, base58check (§4.7): ESP-Miner's third setting. */
  readonly authorityKey: string;
}

/** A wire attached to the core: it sends jobs to its miners and ticks their sessions. */
export interface Wire {
  readonly protocol: WireProtocol;
  readonly connections: number;
  /** Sends the current job to every ready miner; returns how many got it. */
  broadcast(newTip: boolean): number;
  tick(now: number): void;
  close(): Promise<void>;
}

export class PoolCore extends EventEmitter<PoolCoreEvents> {
  readonly book: JobBook;
  private readonly workersBook: WorkerBook;
  readonly now: () => number;
  private readonly wires: Wire[] = [];
  private readonly perAddress = new Map<string, number>();
  private total = 0;
  private readonly usedExtranonces = new Set<string>();
  private extranonceCounter = randomBytes(4).readUInt32BE(0);
  private ticker: NodeJS.Timeout | undefined;
  /** The difficulty of the block being mined: the vardiff ceiling (none before the first job). */
  private netDifficulty = Infinity;
  private netTarget: bigint | undefined;
  private capWarned = 0;
  private v1Url = '';
  private v2: Sv2Endpoint | undefined;
  /** What every session of this pool shares. */
  readonly sessionHost: SessionHost;

  private constructor(
    readonly options: PoolCoreOptions,
    private readonly bestShares: BestShareStore,
    /** Turns a share at the block target into a block: true when it was submitted. */
    private readonly claim: (candidate: PoolBlockCandidate) => boolean,
  ) {
    super();
    this.now = options.now ?? Date.now;
    // The orchestrator's own job already pays the operator: that payout needs no variant.
    // Without an operator address no worker's payout is the job's own ('' is no script's key),
    // so every worker gets a variant paying its address and the orchestrator's job none.
    const operatorKey = options.operatorAddress === undefined ? '' : Buffer.from(addressToScript(options.operatorAddress, options.network).script).toString('hex');
    this.book = new JobBook(operatorKey);
    this.workersBook = new WorkerBook(this.now, (name) => this.bestShares.get(name));
    if (options.reservedExtranonce1) this.usedExtranonces.add(Buffer.from(options.reservedExtranonce1).toString('hex'));
    this.sessionHost = {
      now: this.now,
      vardiff: { targetSeconds: options.shareSeconds, minDifficulty: options.minDifficulty, startDifficulty: options.startDifficulty },
      networkDifficulty: () => this.netDifficulty,
      findJob: (id) => this.book.find(id),
    };
  }

  static async open(options: PoolCoreOptions, claim: (candidate: PoolBlockCandidate) => boolean, warn: (m: string) => void): Promise<PoolCore> {
    const store = await BestShareStore.open(options.bestSharesPath, warn, options.now);
    const core = new PoolCore(options, store, claim);
    core.on('warning', warn);
    core.ticker = setInterval(() => core.tick(), 1000);
    core.ticker.unref();
    return core;
  }

  attach(wire: Wire, endpoint: { v1Url: string } | { v2: Sv2Endpoint }): void {
    this.wires.push(wire);
    if ('v1Url' in endpoint) this.v1Url = endpoint.v1Url;
    else this.v2 = endpoint.v2;
  }

  /** stratum+tcp://host:port of the V1 wire as bound ('' without one). */
  get url(): string {
    return this.v1Url;
  }

  /** What a login must be: an address, unless an operator address takes the other names. */
  get login(): 'address' | 'address-or-worker' {
    return this.options.operatorAddress === undefined ? 'address' : 'address-or-worker';
  }

  /** The Stratum V2 wire's endpoint, when one is served. */
  get sv2(): Sv2Endpoint | undefined {
    return this.v2;
  }

  get connections(): number {
    return this.total;
  }

  /** Connections per wire served. */
  connectionsBy(): Partial<Record<WireProtocol, number>> {
    const out: Partial<Record<WireProtocol, number>> = {};
    for (const w of this.wires) out[w.protocol] = (out[w.protocol] ?? 0) + w.connections;
    return out;
  }

  get networkDifficulty(): number {
    return this.netDifficulty;
  }

  /** The block target being mined (undefined before the first job). */
  get networkTarget(): bigint | undefined {
    return this.netTarget;
  }

  workers(): WorkerSnapshot[] {
    return this.workersBook.snapshot();
  }

  /** A new orchestrator job: every ready miner of every wire gets its variant at once. */
  setJob(job: Job, newTip: boolean, requestedAt = performance.now()): void {
    this.netDifficulty = bitsToDifficulty(job.bits);
    this.netTarget = job.target;
    this.book.setJob(job, newTip);
    for (const wire of this.wires) {
      const sent = wire.broadcast(newTip);
      this.emit('fanout', { connections: sent, ms: performance.now() - requestedAt, newTip, protocol: wire.protocol });
    }
  }

  /** A block was found on `tip` (here or by a local engine): its jobs are stale from now on. */
  retireTip(tip: string): void {
    this.book.retireTip(tip);
  }

  async close(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    await Promise.all(this.wires.map((w) => w.close()));
    await this.bestShares.close();
  }

  // --- what wires call ---------------------------------------------------------------------

  /** A new connection from `address`: undefined when admitted, else why not (said once a minute). */
  admit(address: string, remote: string, protocol: WireProtocol): string | undefined {
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (this.total >= this.options.maxConnections || fromAddress >= this.options.maxConnectionsPerAddress) {
      const which = this.total >= this.options.maxConnections ? `${this.options.maxConnections} connections in all (--stratum-max-connections)` : `${this.options.maxConnectionsPerAddress} from ${address} (--stratum-max-per-address)`;
      // Said once a minute at most: a flood must not flood the log too.
      if (this.now() - this.capWarned > 60_000) {
        this.capWarned = this.now();
        this.emit('warning', `stratum: connection limit reached: ${which}; refusing new connections`);
      }
      return which;
    }
    this.perAddress.set(address, fromAddress + 1);
    this.total++;
    this.emit('connect', { remote, total: this.total, protocol });
    return undefined;
  }

  /** A connection admitted by `admit` closed. */
  release(address: string, remote: string, protocol: WireProtocol, worker: string | undefined, reason: string): void {
    const n = (this.perAddress.get(address) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(address);
    else this.perAddress.set(address, n);
    this.total = Math.max(0, this.total - 1);
    this.emit('disconnect', { remote, worker, reason, total: this.total, protocol });
  }

  /** A fresh extranonce prefix no other miner (nor the local engines) has. */
  allocateExtranonce(): Buffer {
    const buf = Buffer.alloc(EXTRANONCE_PREFIX_SIZE);
    for (;;) {
      this.extranonceCounter = (this.extranonceCounter + 1) >>> 0;
      buf.writeUInt32BE(this.extranonceCounter);
      const key = buf.toString('hex');
      if (!this.usedExtranonces.has(key)) {
        this.usedExtranonces.add(key);
        return buf;
      }
    }
  }

  freeExtranonce(prefix: Uint8Array): void {
    this.usedExtranonces.delete(Buffer.from(prefix).toString('hex'));
  }

  authorize(username: string, password: unknown): Verdict {
    return authorize(username, password, this.options);
  }

  /** The current job for a worker's payout (undefined before the first template, or after a block). */
  jobFor(worker: WorkerIdentity): StratumJob | undefined {
    return this.book.jobFor(worker.payoutKey, worker.payoutScript);
  }

  workerConnected(worker: WorkerIdentity, userAgent: string | undefined, remote: string, protocol: WireProtocol): void {
    this.workersBook.connected(worker.name, worker.worker, worker.address, userAgent, protocol);
    this.emit('authorized', { remote, worker, userAgent, protocol });
  }

  workerDisconnected(name: string, protocol: WireProtocol): void {
    this.workersBook.disconnected(name, protocol);
  }

  workerDifficulty(name: string, difficulty: number): void {
    this.workersBook.difficulty(name, difficulty);
  }

  /** An accepted share: counted, offered as a best share, and claimed as a block when it is one. */
  accepted(worker: WorkerIdentity, owed: number, share: CheckedShare, job: StratumJob, protocol: WireProtocol): void {
    this.workersBook.accepted(worker.name, worker.worker, worker.address, owed, share.difficulty);
    this.bestShares.offer(worker.name, share.difficulty);
    const hash = Buffer.from(share.hash).reverse().toString('hex');
    this.emit('share', { worker, owed, difficulty: share.difficulty, hash, jobId: job.id, extranonce: share.extranonce.toString('hex'), ntime: share.ntime, nonce: share.nonce, version: share.version, protocol });
    if (share.isBlock) {
      const candidate: PoolBlockCandidate = { job: job.prepared.job, stratumJobId: job.id, share, worker, protocol, foundAt: performance.now() };
      this.emit('block', candidate);
      if (this.claim(candidate)) this.workersBook.blockFound(worker.name);
    }
  }

  rejected(worker: WorkerIdentity | undefined, kind: RejectKind, message: string, remote: string, protocol: WireProtocol): void {
    const reason = REJECT_REASON[kind];
    if (worker) this.workersBook.rejected(worker.name, worker.worker, worker.address, reason);
    this.emit('reject', { worker, reason, message, remote, protocol });
  }

  private tick(): void {
    const now = this.now();
    for (const w of this.wires) w.tick(now);
  }
}

export class StratumListenError extends Error {
  override readonly name = 'StratumListenError';
}
