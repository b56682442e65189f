/**
 * One Stratum V1 connection's protocol state: `mining.configure` (BIP310, accepted before
 * subscribe: ESP-Miner pipelines configure, subscribe and authorize), `mining.subscribe`,
 * `mining.authorize`, `mining.submit` and the small calls firmware makes. It owns no socket:
 * the server hands it lines and gives it a `send`. Shares are judged by the protocol-free
 * session (../session.ts); this file spells them in JSON. Every bad message gets an error
 * reply; a connection that sends nothing but bad messages is told to close.
 * @module
 */
import type { Verdict, WorkerIdentity } from '../authorize.js';
import type { StratumJob } from '../job-book.js';
import { ShareSession, type SessionHost } from '../session.js';
import type { CheckedShare, RejectKind } from '../share.js';
import {
  ERROR_CODE,
  errorLine,
  hex32,
  notificationLine,
  parseDifficulty,
  parseHex32,
  parseRequest,
  resultLine,
  SERVER_VERSION_MASK,
  StratumErrorCode,
  type StratumId,
} from './protocol.js';

/** Consecutive bad messages after which a connection is dropped. */
export const MAX_BAD_MESSAGES = 8;

/** What a connection needs from the server. */
export interface ConnectionHost extends SessionHost {
  /** The connection's unique extranonce1. */
  readonly extranonce1: Buffer;
  readonly extranonce2Size: number;
  authorize(username: string, password: unknown): Verdict;
  shareAccepted(conn: Connection, worker: WorkerIdentity, owed: number, share: CheckedShare, job: StratumJob): void;
  shareRejected(conn: Connection, worker: WorkerIdentity | undefined, kind: RejectKind, message: string): void;
  /** The connection became ready (subscribed and authorized). */
  ready(conn: Connection): void;
}

export class Connection {
  subscribed = false;
  userAgent: string | undefined;
  /** Workers authorized on this connection (a proxy may authorize several). */
  readonly workers = new Map<string, WorkerIdentity>();
  /** The first authorized worker: whose payout the connection's jobs carry. */
  worker: WorkerIdentity | undefined;
  readonly session: ShareSession;
  private badMessages = 0;
  /** Set when the connection must be closed (the server closes the socket). */
  closeReason: string | undefined;

  constructor(
    private readonly host: ConnectionHost,
    private readonly send: (text: string) => void,
  ) {
    this.session = new ShareSession(host, host.extranonce1, 0);
  }

  get connectedAt(): number {
    return this.session.connectedAt;
  }

  /** BIP310 mask agreed in mining.configure (0: no version rolling). */
  get versionMask(): number {
    return this.session.versionMask;
  }

  get ready(): boolean {
    return this.subscribed && this.worker !== undefined;
  }

  get difficulty(): number {
    return this.session.difficulty;
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
    this.session.tick();
  }

  /** Sends `job` (with a new difficulty first, if one is due). */
  sendJob(job: StratumJob, notifyLine: string): void {
    const { difficulty, changed } = this.session.jobSent(job);
    if (changed) this.send(notificationLine('mining.set_difficulty', [difficulty]));
    this.send(notifyLine);
  }

  /** A difficulty change waits for the next job; true when one is due. */
  get difficultyChangeDue(): boolean {
    return this.session.difficultyChangeDue;
  }

  /** Forget jobs of previous tips (their shares are stale anyway). */
  forgetJobs(keep: (id: string) => boolean): void {
    this.session.forgetJobs(keep);
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
        this.session.versionMask = (SERVER_VERSION_MASK & (Number.isFinite(asked) ? asked : 0)) >>> 0;
        result['version-rolling'] = this.session.versionMask !== 0;
        result['version-rolling.mask'] = hex32(this.session.versionMask);
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
      this.host.shareRejected(this, undefined, 'unauthorized', verdict.message);
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
    // Before the first job it is the starting difficulty; later it comes with the next job.
    this.session.suggest(d);
    this.reply(id, true);
  }

  private submit(id: StratumId, params: readonly unknown[]): void {
    const [workerName, jobId, extranonce2, ntimeHex, nonceHex, versionBits] = params;
    if (!this.subscribed) return this.refuse(id, undefined, 'not-subscribed', 'not subscribed (mining.subscribe first)');
    const worker = typeof workerName === 'string' ? (this.workers.get(workerName) ?? this.worker) : this.worker;
    if (worker === undefined) return this.refuse(id, undefined, 'unauthorized', 'unauthorized worker (mining.authorize first)');
    if (typeof jobId !== 'string') return this.refuse(id, worker, 'invalid', 'job id: expected a string');
    if (this.session.owes(jobId) === undefined || this.host.findJob(jobId) === undefined) {
      return this.refuse(id, worker, 'unknown-job', `job ${JSON.stringify(jobId.slice(0, 32))} not found`);
    }
    // The JSON spelling of each field: hex of its exact size, big-endian numbers (protocol.ts).
    const en2Digits = this.host.extranonce2Size * 2;
    if (typeof extranonce2 !== 'string' || extranonce2.length !== en2Digits || !/^[0-9a-fA-F]*$/.test(extranonce2)) {
      return this.refuse(id, worker, 'invalid', `extranonce2: expected ${en2Digits} hex digits`);
    }
    const ntime = parseHex32(ntimeHex);
    if (ntime === undefined) return this.refuse(id, worker, 'invalid', 'ntime: expected 8 hex digits');
    const nonce = parseHex32(nonceHex);
    if (nonce === undefined) return this.refuse(id, worker, 'invalid', 'nonce: expected 8 hex digits');
    const mask = this.session.versionMask;
    const jobVersion = this.host.findJob(jobId)!.job.prepared.job.version >>> 0;
    let version = jobVersion;
    if (versionBits !== undefined && versionBits !== null) {
      const bits = parseHex32(versionBits);
      if (bits === undefined) return this.refuse(id, worker, 'invalid', 'version bits: expected 8 hex digits');
      if ((bits & ~mask) >>> 0 !== 0) {
        return this.refuse(id, worker, 'invalid', mask === 0 ? 'version bits: version rolling was not negotiated (mining.configure)' : `version bits: ${bits.toString(16)} outside the negotiated mask ${mask.toString(16)}`);
      }
      version = ((jobVersion & ~mask) | (bits & mask)) >>> 0;
    }
    const verdict = this.session.judge(jobId, { extranonce: Buffer.from(extranonce2, 'hex'), ntime, nonce, version });
    if (!verdict.ok) return this.refuse(id, worker, verdict.kind, verdict.message);
    this.badMessages = 0;
    this.reply(id, true);
    this.host.shareAccepted(this, worker, verdict.owed, verdict.share, verdict.job);
  }

  private refuse(id: StratumId, worker: WorkerIdentity | undefined, kind: RejectKind, message: string): void {
    this.host.shareRejected(this, worker, kind, message);
    this.send(errorLine(id, ERROR_CODE[kind], message));
  }

  private reply(id: StratumId, result: unknown): void {
    this.send(resultLine(id, result));
  }

  private bad(id: StratumId, message: string): void {
    this.send(errorLine(id, StratumErrorCode.OTHER, message));
    if (++this.badMessages >= MAX_BAD_MESSAGES) this.closeReason = `${MAX_BAD_MESSAGES} bad messages in a row`;
  }
}
