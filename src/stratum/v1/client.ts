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
import { connect, type Socket } from 'node:net';

import { UpstreamClient, type ShareToSubmit, type UpstreamOptions, type UpstreamSession } from '../upstream.js';
import { poolJob, PoolJobError } from './pool-job.js';
import { hex32, LineSplitter, parseDifficulty, parseHex32, REJECT_REASON, SERVER_VERSION_MASK, type StratumErrorCode } from './protocol.js';

export type { ShareToSubmit };
export type StratumClientOptions = UpstreamOptions;

let requestIds = 0;

class Session implements UpstreamSession {
  readonly splitter = new LineSplitter(256 * 1024);
  extranonce1 = Buffer.alloc(0);
  extranonce2Size = 0;
  difficulty = 1;
  versionMask = 0;
  subscribed = false;
  authorized = false;
  readonly pending = new Map<number, { resolve: (m: Reply) => void; timer: NodeJS.Timeout }>();
  closed = false;
  why = 'the connection closed';

  constructor(
    readonly url: string,
    readonly socket: Socket,
  ) {}

  get ready(): boolean {
    return this.authorized;
  }

  end(reason: string): void {
    this.why = reason;
    this.socket.destroy();
  }
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

/** The metric reason of a V1 error code (20 and anything unknown: other). */
function kindOf(code: number | undefined): string {
  return REJECT_REASON[(code ?? 20) as StratumErrorCode] ?? 'other';
}

export class StratumClient extends UpstreamClient<Session> {
  private jobSeq = 0;

  constructor(options: StratumClientOptions) {
    super(options);
    for (const u of options.urls) parsePoolUrl(u);
  }

  protected send(s: Session, share: ShareToSubmit): void {
    const pool = share.job.pool!;
    // The mask may have narrowed since the share's job (mining.set_version_mask): such a
    // share would be rebuilt with another version by the pool, so it is dropped, not sent.
    if (((share.version ^ share.job.version) & ~s.versionMask) !== 0) {
      this.emit('dropped', { reason: 'its version has bits outside the version-rolling mask the pool grants now' });
      return;
    }
    const extranonce2 = Buffer.from(share.extranonce.subarray(pool.extranonce1.length)).toString('hex');
    const params: unknown[] = [this.options.user, pool.jobId, extranonce2, hex32(share.ntime), hex32(share.nonce)];
    // BIP310: the pool rebuilds the version as (job version & ~mask) | (bits & mask), so the
    // bits sent are the share's version inside the mask (not its difference from the job's).
    if (share.version >>> 0 !== share.job.version >>> 0) params.push(hex32((share.version & s.versionMask) >>> 0));
    this.call(s, 'mining.submit', params, (reply) => {
      const accepted = reply.result === true && (reply.error === null || reply.error === undefined);
      const code = Array.isArray(reply.error) && typeof reply.error[0] === 'number' ? reply.error[0] : undefined;
      this.emit('share', accepted ? { accepted, difficulty: share.difficulty } : { accepted, reason: rejectReason(reply), kind: kindOf(code), difficulty: share.difficulty });
    });
  }

  // --- one session -----------------------------------------------------------------------

  /**
   * One session with `url`: resolves when it ends — 'connected' if it got as far as an
   * authorized login (the loop then starts again from the first URL), else 'failed'.
   */
  protected runSession(url: string): Promise<'connected' | 'failed'> {
    const { host, port } = parsePoolUrl(url);
    return new Promise((resolve) => {
      let reachedLogin = false;
      const socket = connect({ host, port });
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 60_000);
      socket.setEncoding('utf8');
      const s = new Session(url, socket);
      this.session = s;
      const fail = (reason: string) => s.end(reason);
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
        s.why = err.code ?? err.message;
      });
      socket.on('close', () => {
        s.closed = true;
        for (const p of s.pending.values()) clearTimeout(p.timer);
        s.pending.clear();
        if (reachedLogin) this.emit('disconnected', { url, reason: s.why });
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

  private request(s: Session, method: string, params: unknown[], timeoutMs = this.options.requestTimeoutMs ?? 10_000): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const id = this.call(s, method, params, resolve);
      const entry = s.pending.get(id)!;
      clearTimeout(entry.timer); // send()'s minute-long default gives way to this request's limit
      entry.timer = setTimeout(() => {
        s.pending.delete(id);
        reject(new Error(`no answer to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
    });
  }

  private call(s: Session, method: string, params: unknown[], onReply: (r: Reply) => void): number {
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
        s.end('the pool asked to reconnect');
        return undefined;
      }
      default:
        return undefined; // client.show_message and the like: nothing to do
    }
  }
}
