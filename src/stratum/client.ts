/**
 * The Stratum V1 client of `mine --pool` (docs/stratum.md, "Mining through a pool"): connects to
 * the first pool that answers (several URLs are tried in order as fail-over), offers BIP310
 * version rolling (the engines roll BIP320's bits when the pool grants all of them; a pool
 * without it, or with a narrower mask, is fine: the engines keep the job's version), subscribes,
 * asks for extranonce changes, authorizes, suggests a difficulty when told to, and turns each
 * mining.notify into a Job for the orchestrator. Shares go back with the job's ntime.
 *
 * Anything malformed from the pool (bad JSON, a notify with a wrong field, a branch longer than
 * any block's) is one warning and a reconnect — never a crash, never a wrong share. A dropped
 * connection is retried with exponential backoff and jitter; client.reconnect is honoured.
 * @module
 */
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';

import type { Job } from '../work/job.js';
import { poolJob, PoolJobError } from './pool-job.js';
import { hex32, LineSplitter, parseDifficulty, parseHex32, SERVER_VERSION_MASK } from './protocol.js';

export interface StratumClientOptions {
  /** stratum+tcp://host:port, in fail-over order. */
  readonly urls: readonly string[];
  readonly user: string;
  readonly password: string;
  readonly suggestDifficulty?: number | undefined;
  readonly userAgent: string;
  /** Backoff after a failed round of every URL: doubles from this (default 1 s) ... */
  readonly initialDelayMs?: number;
  /** ... up to this (default 60 s); each delay is jittered to [half, full]. */
  readonly maxDelayMs?: number;
  /** A request unanswered for this long counts as a failure (default 10 s). */
  readonly requestTimeoutMs?: number;
  readonly random?: () => number;
}

/** A share as mining.submit sends it (from the orchestrator's PoolShare). */
export interface ShareToSubmit {
  readonly job: Job;
  /** extranonce1 ‖ extranonce2 the header was built with. */
  readonly extranonce: Uint8Array;
  readonly ntime: number;
  readonly nonce: number;
  readonly version: number;
  readonly difficulty: number;
}

export interface StratumClientEvents {
  job: [{ job: Job; clean: boolean; receivedAt: number }];
  connected: [{ url: string; extranonce1: string; extranonce2Size: number; versionRolling: boolean }];
  disconnected: [{ url: string; reason: string }];
  difficulty: [number];
  /** The pool's verdict on a share, the reason in any of the forms pools use. */
  share: [{ accepted: boolean; reason?: string; code?: number; difficulty: number }];
  /** A share that was not sent: its job belongs to an earlier session (another extranonce1). */
  dropped: [{ reason: string }];
  warning: [string];
}

/** Shares kept while disconnected, sent when the session comes back unchanged. */
const QUEUE_LIMIT = 100;
let requestIds = 0;

interface Session {
  readonly url: string;
  readonly socket: Socket;
  readonly splitter: LineSplitter;
  extranonce1: Buffer;
  extranonce2Size: number;
  difficulty: number;
  versionMask: number;
  subscribed: boolean;
  authorized: boolean;
  readonly pending: Map<number, { resolve: (m: Reply) => void; timer: NodeJS.Timeout }>;
  readonly submits: Map<number, number>;
  closed: boolean;
}

interface Reply {
  readonly result: unknown;
  readonly error: unknown;
  readonly rejectReason?: unknown;
}

export class PoolUrlError extends Error {
  override readonly name = 'PoolUrlError';
}

/** host and port of stratum+tcp://host:port. */
export function parsePoolUrl(url: string): { host: string; port: number } {
  const m = /^stratum\+tcp:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(url);
  if (!m) throw new PoolUrlError(`--pool: expected stratum+tcp://host:port, got ${JSON.stringify(url)}`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/** The reason of a rejected share, in every form pools send it: [code, msg], a string, an object, reject-reason. */
export function rejectReason(reply: Reply): string {
  const e = reply.error;
  if (Array.isArray(e) && typeof e[1] === 'string') return e[1];
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string') return (e as { message: string }).message;
  if (typeof reply.rejectReason === 'string') return reply.rejectReason;
  return 'rejected without a reason';
}

export class StratumClient extends EventEmitter<StratumClientEvents> {
  private session: Session | undefined;
  private stopped = false;
  private jobSeq = 0;
  private failures = 0;
  private readonly queue: ShareToSubmit[] = [];
  /** Where client.reconnect sends us next (tried before the configured URLs). */
  private redirect: string | undefined;
  /** How long client.reconnect asked to wait before reconnecting. */
  private redirectDelay: number | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: StratumClientOptions) {
    super();
    for (const u of options.urls) parsePoolUrl(u);
  }

  get connectedUrl(): string | undefined {
    return this.session && !this.session.closed && this.session.authorized ? this.session.url : undefined;
  }

  get difficulty(): number | undefined {
    return this.session?.difficulty;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.session?.socket.destroy();
    this.wake?.();
    await this.loop;
  }

  /** Sends a share now, or keeps it for the next session when disconnected. */
  submit(share: ShareToSubmit): void {
    const s = this.session;
    if (!s || s.closed || !s.authorized) {
      if (this.queue.length < QUEUE_LIMIT) this.queue.push(share);
      else this.emit('dropped', { reason: 'disconnected, and the queue of waiting shares is full' });
      return;
    }
    const pool = share.job.pool;
    if (!pool || !Buffer.from(pool.extranonce1).equals(s.extranonce1)) {
      this.emit('dropped', { reason: 'its job belongs to an earlier session (another extranonce1)' });
      return;
    }
    if (((share.version ^ share.job.version) & ~s.versionMask) !== 0) {
      this.emit('dropped', { reason: 'its version has bits outside the version-rolling mask the pool grants now' });
      return;
    }
    const extranonce2 = Buffer.from(share.extranonce.subarray(pool.extranonce1.length)).toString('hex');
    const params: unknown[] = [this.options.user, pool.jobId, extranonce2, hex32(share.ntime), hex32(share.nonce)];
    // BIP310: the pool rebuilds the version as (job version & ~mask) | (bits & mask), so the
    // bits sent are the share's version inside the mask (not its difference from the job's).
    if (share.version >>> 0 !== share.job.version >>> 0) params.push(hex32((share.version & s.versionMask) >>> 0));
    const id = this.send(s, 'mining.submit', params, (reply) => {
      const accepted = reply.result === true && (reply.error === null || reply.error === undefined);
      const code = Array.isArray(reply.error) && typeof reply.error[0] === 'number' ? reply.error[0] : undefined;
      this.emit('share', accepted ? { accepted, difficulty: share.difficulty } : { accepted, reason: rejectReason(reply), ...(code !== undefined && { code }), difficulty: share.difficulty });
    });
    s.submits.set(id, share.difficulty);
  }

  // --- connection loop -------------------------------------------------------------------

  private async run(): Promise<void> {
    while (!this.stopped) {
      const urls = this.redirect ? [this.redirect, ...this.options.urls] : [...this.options.urls];
      this.redirect = undefined;
      let connected = false;
      for (const url of urls) {
        if (this.stopped) return;
        const reason = await this.runSession(url);
        if (reason === 'connected') {
          connected = true;
          break;
        }
      }
      if (this.stopped) return;
      if (!connected) this.failures++;
      else this.failures = 0;
      const delay = this.redirectDelay ?? this.backoff();
      this.redirectDelay = undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  private backoff(): number {
    if (this.failures === 0) return 0;
    const initial = this.options.initialDelayMs ?? 1000;
    const max = this.options.maxDelayMs ?? 60_000;
    const step = Math.min(max, initial * 2 ** (this.failures - 1));
    return Math.round(step / 2 + (step / 2) * (this.options.random ?? Math.random)());
  }

  /**
   * One session with `url`: resolves when it ends — 'connected' if it got as far as an
   * authorized login (the loop then starts again from the first URL), else 'failed'.
   */
  private runSession(url: string): Promise<'connected' | 'failed'> {
    const { host, port } = parsePoolUrl(url);
    return new Promise((resolve) => {
      let reachedLogin = false;
      let why = 'the connection closed';
      const socket = connect({ host, port });
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 60_000);
      socket.setEncoding('utf8');
      const s: Session = {
        url,
        socket,
        splitter: new LineSplitter(256 * 1024),
        extranonce1: Buffer.alloc(0),
        extranonce2Size: 0,
        difficulty: 1,
        versionMask: 0,
        subscribed: false,
        authorized: false,
        pending: new Map(),
        submits: new Map(),
        closed: false,
      };
      this.session = s;
      const fail = (reason: string) => {
        why = reason;
        socket.destroy();
      };
      socket.setTimeout(this.options.requestTimeoutMs ?? 10_000, () => {
        if (!s.authorized) fail('no answer to the login in time');
      });
      socket.on('connect', () => {
        void this.login(s).then(
          () => {
            reachedLogin = true;
            socket.setTimeout(0);
            this.emit('connected', { url, extranonce1: s.extranonce1.toString('hex'), extranonce2Size: s.extranonce2Size, versionRolling: s.versionMask !== 0 });
            this.flushQueue(s);
          },
          (err: Error) => fail(err.message),
        );
      });
      socket.on('data', (chunk: string) => {
        const lines = s.splitter.push(chunk);
        if (lines === 'too-long') return fail('a line over 256 KiB');
        for (const line of lines) {
          const problem = this.onLine(s, line);
          if (problem !== undefined) {
            this.emit('warning', `pool ${url} sent ${problem}; reconnecting`);
            return fail(problem);
          }
        }
      });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        why = err.code ?? err.message;
      });
      socket.on('close', () => {
        s.closed = true;
        for (const p of s.pending.values()) clearTimeout(p.timer);
        s.pending.clear();
        if (reachedLogin) this.emit('disconnected', { url, reason: why });
        resolve(reachedLogin ? 'connected' : 'failed');
      });
    });
  }

  /** configure (offered; a pool without it is fine), subscribe, extranonce.subscribe, authorize, suggest. */
  private async login(s: Session): Promise<void> {
    const configure = await this.request(s, 'mining.configure', [['version-rolling'], { 'version-rolling.mask': hex32(SERVER_VERSION_MASK), 'version-rolling.min-bit-count': 2 }], 5_000).catch(() => undefined);
    const rolling = configure?.result as Record<string, unknown> | undefined;
    if (rolling && rolling['version-rolling'] === true && typeof rolling['version-rolling.mask'] === 'string') {
      s.versionMask = Number.parseInt(rolling['version-rolling.mask'], 16) >>> 0;
    }
    const sub = await this.request(s, 'mining.subscribe', [this.options.userAgent]);
    const result = sub.result as unknown[] | null;
    if (!Array.isArray(result) || typeof result[1] !== 'string' || !/^([0-9a-fA-F]{2}){0,16}$/.test(result[1]) || !Number.isInteger(result[2]) || (result[2] as number) < 1 || (result[2] as number) > 16) {
      throw new Error(`mining.subscribe answered ${sub.error ? rejectReason(sub) : 'without extranonce1 and extranonce2_size'}`);
    }
    s.extranonce1 = Buffer.from(result[1], 'hex');
    s.extranonce2Size = result[2] as number;
    s.subscribed = true;
    void this.request(s, 'mining.extranonce.subscribe', []).catch(() => undefined);
    const auth = await this.request(s, 'mining.authorize', [this.options.user, this.options.password]);
    if (auth.result !== true) throw new Error(`the pool refused the login of ${this.options.user}: ${rejectReason(auth)}`);
    s.authorized = true;
    if (this.options.suggestDifficulty !== undefined) void this.request(s, 'mining.suggest_difficulty', [this.options.suggestDifficulty]).catch(() => undefined);
  }

  private flushQueue(s: Session): void {
    const waiting = this.queue.splice(0);
    for (const share of waiting) {
      if (share.job.pool && Buffer.from(share.job.pool.extranonce1).equals(s.extranonce1)) this.submit(share);
      else this.emit('dropped', { reason: 'found while disconnected, for a session the pool did not resume' });
    }
  }

  private request(s: Session, method: string, params: unknown[], timeoutMs = this.options.requestTimeoutMs ?? 10_000): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const id = this.send(s, method, params, resolve);
      const entry = s.pending.get(id)!;
      clearTimeout(entry.timer); // send()'s minute-long default gives way to this request's limit
      entry.timer = setTimeout(() => {
        s.pending.delete(id);
        reject(new Error(`no answer to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
    });
  }

  private send(s: Session, method: string, params: unknown[], onReply: (r: Reply) => void): number {
    const id = ++requestIds;
    // An answer that never comes is forgotten after a minute (a request() sets a shorter limit).
    const timer = setTimeout(() => s.pending.delete(id), 60_000);
    timer.unref();
    s.pending.set(id, { resolve: onReply, timer });
    s.socket.write(`${JSON.stringify({ id, method, params })}\n`);
    return id;
  }

  /** One line from the pool; returns what was wrong with it when the session must end. */
  private onLine(s: Session, line: string): string | undefined {
    let msg: Record<string, unknown>;
    try {
      const v = JSON.parse(line) as unknown;
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'a message that is not a JSON object';
      msg = v as Record<string, unknown>;
    } catch {
      return 'invalid JSON';
    }
    const method = msg.method;
    if (typeof method !== 'string') {
      const id = msg.id;
      const pending = typeof id === 'number' ? s.pending.get(id) : undefined;
      if (pending && typeof id === 'number') {
        clearTimeout(pending.timer);
        s.pending.delete(id);
        pending.resolve({ result: msg.result, error: msg.error, rejectReason: msg['reject-reason'] });
      }
      return undefined;
    }
    const params = Array.isArray(msg.params) ? msg.params : [];
    switch (method) {
      case 'mining.notify': {
        if (!s.subscribed) return 'mining.notify before the subscription was answered';
        try {
          const { job, clean } = poolJob(params, { extranonce1: s.extranonce1, extranonce2Size: s.extranonce2Size, difficulty: s.difficulty, versionMask: s.versionMask }, `p${++this.jobSeq}`);
          this.emit('job', { job, clean, receivedAt: performance.now() });
        } catch (err) {
          if (err instanceof PoolJobError) return err.message;
          throw err;
        }
        return undefined;
      }
      case 'mining.set_difficulty': {
        const d = parseDifficulty(params[0]);
        if (d === undefined) return `mining.set_difficulty ${JSON.stringify(params[0])}: expected a number > 0`;
        s.difficulty = d;
        this.emit('difficulty', d);
        return undefined;
      }
      case 'mining.set_extranonce': {
        const [en1, size] = params;
        if (typeof en1 !== 'string' || !/^([0-9a-fA-F]{2}){0,16}$/.test(en1) || !Number.isInteger(size) || (size as number) < 1 || (size as number) > 16) {
          return 'mining.set_extranonce: expected [hex extranonce1, extranonce2_size 1..16]';
        }
        // Applies to the jobs that follow; the current one's shares would now be refused.
        s.extranonce1 = Buffer.from(en1, 'hex');
        s.extranonce2Size = size as number;
        return undefined;
      }
      case 'mining.set_version_mask': {
        const mask = parseHex32(params[0]);
        if (mask !== undefined) s.versionMask = (mask & SERVER_VERSION_MASK) >>> 0;
        return undefined;
      }
      case 'client.reconnect': {
        const [host, port, wait] = params;
        const current = parsePoolUrl(s.url);
        const h = typeof host === 'string' && host !== '' ? host : current.host;
        const p = typeof port === 'number' || (typeof port === 'string' && /^\d+$/.test(port)) ? Number(port) : current.port;
        this.redirect = `stratum+tcp://${h.includes(':') ? `[${h}]` : h}:${p}`;
        this.redirectDelay = typeof wait === 'number' && wait >= 0 && wait <= 3600 ? wait * 1000 : 0;
        this.emit('warning', `pool ${s.url} asked to reconnect to ${this.redirect}`);
        s.socket.destroy();
        return undefined;
      }
      default:
        return undefined; // client.show_message and the like: nothing to do
    }
  }
}
