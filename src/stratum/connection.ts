/**
 * One Stratum V1 connection's protocol state: `mining.configure` (BIP310, accepted before
 * subscribe: ESP-Miner pipelines configure, subscribe and authorize), `mining.subscribe`,
 * `mining.authorize`, `mining.submit` and the small calls firmware makes. It owns no socket:
 * the server hands it lines and gives it a `send`. Every bad message gets an error reply; a
 * connection that sends nothing but bad messages is told to close.
 * @module
 */
import type { WorkerIdentity } from './authorize.js';
import type { StratumJob } from './job-book.js';
import {
  errorLine,
  hex32,
  notificationLine,
  parseDifficulty,
  parseRequest,
  resultLine,
  SERVER_VERSION_MASK,
  StratumErrorCode,
  type StratumId,
} from './protocol.js';
import { checkShare, type CheckedShare } from './share.js';
import { Vardiff } from './vardiff.js';

/** Consecutive bad messages after which a connection is dropped. */
export const MAX_BAD_MESSAGES = 8;

/** What a connection needs from the server. */
export interface ConnectionHost {
  now(): number;
  /** The connection's unique extranonce1. */
  readonly extranonce1: Buffer;
  readonly extranonce2Size: number;
  readonly vardiff: { readonly targetSeconds: number; readonly minDifficulty: number; readonly startDifficulty: number };
  networkDifficulty(): number;
  authorize(username: string, password: unknown): { ok: true; worker: WorkerIdentity } | { ok: false; message: string };
  /** The current job for a worker's payout (undefined before the first template). */
  currentJob(worker: WorkerIdentity): StratumJob | undefined;
  /** A job by Stratum id: undefined when unknown, `stale` when it belongs to a previous tip. */
  findJob(id: string): { job: StratumJob; stale: boolean } | undefined;
  shareAccepted(conn: Connection, worker: WorkerIdentity, owed: number, share: CheckedShare, job: StratumJob): void;
  shareRejected(conn: Connection, worker: WorkerIdentity | undefined, code: StratumErrorCode, message: string): void;
  /** The connection became ready (subscribed and authorized) or changed what it hashes for. */
  ready(conn: Connection): void;
}

export class Connection {
  readonly connectedAt: number;
  /** BIP310 mask agreed in mining.configure (0: no version rolling). */
  versionMask = 0;
  subscribed = false;
  userAgent: string | undefined;
  /** Workers authorized on this connection (a proxy may authorize several). */
  readonly workers = new Map<string, WorkerIdentity>();
  /** The first authorized worker: whose payout the connection's jobs carry. */
  worker: WorkerIdentity | undefined;
  /** Difficulty owed per job id sent (the difficulty in force when it was sent). */
  private readonly owed = new Map<string, number>();
  private readonly vardiff: Vardiff;
  /** Difficulty last sent with mining.set_difficulty. */
  private sentDifficulty: number | undefined;
  private pendingDifficulty: number | undefined;
  private badMessages = 0;
  /** Set when the connection must be closed (the server closes the socket). */
  closeReason: string | undefined;

  constructor(
    private readonly host: ConnectionHost,
    private readonly send: (text: string) => void,
  ) {
    this.connectedAt = host.now();
    this.vardiff = new Vardiff(host.vardiff.startDifficulty, { ...host.vardiff, maxDifficulty: () => host.networkDifficulty() }, this.connectedAt);
  }

  get ready(): boolean {
    return this.subscribed && this.worker !== undefined;
  }

  get difficulty(): number {
    return this.vardiff.difficulty;
  }

  get extranonce1Hex(): string {
    return this.host.extranonce1.toString('hex');
  }

  /** One line from the client. */
  handleLine(line: string): void {
    const request = parseRequest(line);
    if ('error' in request) return this.bad(request.id, request.error);
    const { id, method, params } = request;
    switch (method) {
      case 'mining.configure':
        return this.configure(id, params);
      case 'mining.subscribe':
        return this.subscribe(id, params);
      case 'mining.authorize':
        return this.authorizeWorker(id, params);
      case 'mining.submit':
        return this.submit(id, params);
      case 'mining.suggest_difficulty':
        return this.suggestDifficulty(id, params);
      case 'mining.extranonce.subscribe':
        // Answered true; this pool never changes a live connection's extranonce1.
        return this.reply(id, true);
      case 'mining.multi_version':
        // Some Antminer firmware announces how many versions it rolls; nothing to do.
        return this.reply(id, true);
      case 'mining.ping':
        return this.reply(id, 'pong');
      case 'mining.get_transactions':
        // Old cgminer asks; a solo pool has nothing private to hide, but sends no list either.
        return this.reply(id, []);
      default:
        if (id === null && /^client\.|^mining\./.test(method)) return; // a notification to us: ignore
        return this.bad(id, `unknown method ${JSON.stringify(method.slice(0, 64))}`);
    }
  }

  /** Called periodically: vardiff for a silent connection, or a lower network difficulty. */
  tick(): void {
    const next = this.vardiff.onTick(this.host.now());
    if (next !== undefined) this.pendingDifficulty = next;
  }

  /** Sends `job` (with a new difficulty first, if one is due). */
  sendJob(job: StratumJob, notifyLine: string): void {
    const difficulty = this.pendingDifficulty ?? this.vardiff.difficultyNow(this.host.now());
    this.pendingDifficulty = undefined;
    if (difficulty !== this.sentDifficulty) {
      this.sentDifficulty = difficulty;
      this.send(notificationLine('mining.set_difficulty', [difficulty]));
    }
    // A job sent again after a change owes the lower of both difficulties: shares already
    // being hashed for it were meant for the old one (ESP-Miner applies a new difficulty only
    // to jobs that arrive after it).
    const before = this.owed.get(job.id);
    this.owed.set(job.id, before === undefined ? difficulty : Math.min(before, difficulty));
    this.send(notifyLine);
  }

  /** A difficulty change waits for the next job; true when one is due. */
  get difficultyChangeDue(): boolean {
    return this.pendingDifficulty !== undefined && this.pendingDifficulty !== this.sentDifficulty;
  }

  /** Forget jobs of previous tips (their shares are stale anyway). */
  forgetJobs(keep: (id: string) => boolean): void {
    for (const id of this.owed.keys()) if (!keep(id)) this.owed.delete(id);
  }

  private configure(id: StratumId, params: readonly unknown[]): void {
    const [extensions, options] = params;
    if (!Array.isArray(extensions)) return this.bad(id, 'mining.configure: expected a list of extensions first');
    const opts = (typeof options === 'object' && options !== null ? options : {}) as Record<string, unknown>;
    const result: Record<string, unknown> = {};
    for (const ext of extensions) {
      if (ext === 'version-rolling') {
        // BIP310: the mask is the server's AND the miner's; min-bit-count is informational.
        const asked = typeof opts['version-rolling.mask'] === 'string' ? Number.parseInt(opts['version-rolling.mask'] as string, 16) : SERVER_VERSION_MASK;
        this.versionMask = (SERVER_VERSION_MASK & (Number.isFinite(asked) ? asked : 0)) >>> 0;
        result['version-rolling'] = this.versionMask !== 0;
        result['version-rolling.mask'] = hex32(this.versionMask);
      } else if (typeof ext === 'string') {
        result[ext] = false; // minimum-difficulty, subscribe-extranonce, info: not offered
      }
    }
    this.reply(id, result);
  }

  private subscribe(id: StratumId, params: readonly unknown[]): void {
    const agent = params[0];
    if (typeof agent === 'string') this.userAgent = agent.slice(0, 128);
    this.subscribed = true;
    const sub = this.host.extranonce1.toString('hex');
    this.reply(id, [[['mining.set_difficulty', sub], ['mining.notify', sub]], sub, this.host.extranonce2Size]);
    if (this.ready) this.host.ready(this);
  }

  private authorizeWorker(id: StratumId, params: readonly unknown[]): void {
    const [username, password] = params;
    if (typeof username !== 'string' || username === '') return this.bad(id, 'mining.authorize: expected a user name');
    const verdict = this.host.authorize(username, password);
    if (!verdict.ok) {
      this.host.shareRejected(this, undefined, StratumErrorCode.UNAUTHORIZED, verdict.message);
      this.send(errorLine(id, StratumErrorCode.UNAUTHORIZED, verdict.message));
      if (++this.badMessages >= MAX_BAD_MESSAGES) this.closeReason = 'too many refused logins';
      return;
    }
    this.badMessages = 0;
    this.workers.set(username, verdict.worker);
    const first = this.worker === undefined;
    this.worker ??= verdict.worker;
    this.reply(id, true);
    if (first && this.ready) this.host.ready(this);
  }

  private suggestDifficulty(id: StratumId, params: readonly unknown[]): void {
    const d = parseDifficulty(params[0]);
    if (d === undefined) return this.bad(id, 'mining.suggest_difficulty: expected a number > 0');
    const set = this.vardiff.set(d, this.host.now());
    // Before the first job it is the starting difficulty; later it comes with the next job.
    if (this.sentDifficulty !== undefined && set !== this.sentDifficulty) this.pendingDifficulty = set;
    this.reply(id, true);
  }

  private submit(id: StratumId, params: readonly unknown[]): void {
    const [workerName, jobId, extranonce2, ntime, nonce, versionBits] = params;
    if (!this.subscribed) return this.refuse(id, undefined, StratumErrorCode.NOT_SUBSCRIBED, 'not subscribed (mining.subscribe first)');
    const worker = typeof workerName === 'string' ? (this.workers.get(workerName) ?? this.worker) : this.worker;
    if (worker === undefined) return this.refuse(id, undefined, StratumErrorCode.UNAUTHORIZED, 'unauthorized worker (mining.authorize first)');
    if (typeof jobId !== 'string') return this.refuse(id, worker, StratumErrorCode.OTHER, 'job id: expected a string');
    const found = this.host.findJob(jobId);
    const owed = this.owed.get(jobId);
    if (found === undefined || owed === undefined) return this.refuse(id, worker, StratumErrorCode.JOB_NOT_FOUND, `job ${JSON.stringify(jobId.slice(0, 32))} not found`);
    const job = found.job;
    // The same share again is a duplicate even once its job has gone stale (say what it is).
    const key = `${this.host.extranonce1.toString('hex')}:${String(extranonce2).toLowerCase()}:${String(ntime).toLowerCase()}:${String(nonce).toLowerCase()}:${String(versionBits ?? '').toLowerCase()}`;
    if (job.seen.has(key)) return this.refuse(id, worker, StratumErrorCode.DUPLICATE_SHARE, 'duplicate share');
    if (found.stale) return this.refuse(id, worker, StratumErrorCode.JOB_NOT_FOUND, 'stale: the job is for a previous block');
    const share = checkShare(job.prepared, this.host.extranonce1, { extranonce2, ntime, nonce, versionBits }, this.versionMask, Math.floor(this.host.now() / 1000));
    if (!share.ok) return this.refuse(id, worker, share.code, share.message);
    if (share.difficulty < owed) {
      return this.refuse(id, worker, StratumErrorCode.LOW_DIFFICULTY, `low difficulty share: ${formatDiff(share.difficulty)} < ${formatDiff(owed)}`);
    }
    job.seen.add(key);
    this.badMessages = 0;
    const next = this.vardiff.onShare(owed, this.host.now());
    if (next !== undefined) this.pendingDifficulty = next;
    this.reply(id, true);
    this.host.shareAccepted(this, worker, owed, share, job);
  }

  private refuse(id: StratumId, worker: WorkerIdentity | undefined, code: StratumErrorCode, message: string): void {
    this.host.shareRejected(this, worker, code, message);
    this.send(errorLine(id, code, message));
  }

  private reply(id: StratumId, result: unknown): void {
    this.send(resultLine(id, result));
  }

  private bad(id: StratumId, message: string): void {
    this.send(errorLine(id, StratumErrorCode.OTHER, message));
    if (++this.badMessages >= MAX_BAD_MESSAGES) this.closeReason = `${MAX_BAD_MESSAGES} bad messages in a row`;
  }
}

function formatDiff(d: number): string {
  return d >= 1 ? String(Number(d.toPrecision(6))) : d.toPrecision(3);
}
