// Delivers notifications (docs/notifications.md) off the mining path: notify() only queues and
// returns. Each destination — every --notify URL, and the --on-block command — has its own
// bounded queue and one sender, so a dead webhook never holds back another, nor the miner. HTTP
// sends are retried with exponential backoff (jittered, capped; Retry-After honoured) while the
// failure may pass (no connection, a timeout, 408, 429, 5xx); a 4xx is final. When a queue is
// full its oldest waiting notification is dropped, and the log says so once per overflow. Logs
// name a URL only by its redacted label (targets.ts): its credentials never appear in them.
import { spawn } from 'node:child_process';

import type { Logger } from '../logger.js';
import { isBlockEvent, notificationBody, notificationMessage, notificationTitle, onBlockEnvironment, type NotifyEvent } from './notification-events.js';
import { notifyTarget, scrubSecrets, type NotifyTarget } from './targets.js';

export interface CommandResult {
  readonly code: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  /** The last part of what it wrote to stdout and stderr. */
  readonly output: string;
}

export type CommandRunner = (command: string, env: Readonly<Record<string, string>>, timeoutMs: number) => Promise<CommandResult>;

export interface NotifierOptions {
  readonly urls: readonly string[];
  readonly onBlock?: string | undefined;
  readonly log: Logger;
  readonly fetch?: typeof fetch;
  /** Resolves after ms, or at once when the signal aborts. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** [0, 1) for backoff jitter. */
  readonly random?: () => number;
  readonly runCommand?: CommandRunner;
  /** Notifications waiting per destination before the oldest is dropped (default 100). */
  readonly queueLimit?: number;
  /** First retry delay, doubling per failure (default 1 s), capped (default 60 s), attempts per notification (default 8). */
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly maxAttempts?: number;
  /** One HTTP request's limit (default 10 s). */
  readonly requestTimeoutMs?: number;
  /** The --on-block command's limit; then it is killed (default 30 s). */
  readonly commandTimeoutMs?: number;
}

/** A notification waiting for a destination, with what to call once that destination is done with it. */
interface Queued {
  readonly event: NotifyEvent;
  readonly settle: () => void;
}

type SendResult = { ok: true } | { ok: false; retry: boolean; error: string; retryAfterMs?: number };

interface Destination {
  readonly label: string;
  readonly accepts: (e: NotifyEvent) => boolean;
  readonly send: (e: NotifyEvent, signal: AbortSignal) => Promise<SendResult>;
  /** Whether a failed send is tried again (HTTP yes; a command, like -blocknotify, no). */
  readonly retries: boolean;
  readonly queue: Queued[];
  running: Promise<void> | undefined;
  dropped: number;
  /** Dropped since the queue last ran empty. */
  droppedNow: number;
}

export interface NotifierStats {
  readonly sent: number;
  readonly failed: number;
  readonly dropped: number;
}

const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

export class Notifier {
  private readonly destinations: Destination[] = [];
  private readonly abort = new AbortController();
  private readonly options: NotifierOptions;
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private closed = false;
  private sent = 0;
  private failed = 0;

  constructor(options: NotifierOptions) {
    this.options = options;
    this.fetch = options.fetch ?? fetch;
    this.sleep = options.sleep ?? abortableSleep;
    this.random = options.random ?? Math.random;
    for (const url of options.urls) {
      const target = notifyTarget(url);
      this.add(target.label, () => true, (e, signal) => this.post(target, e, signal), true);
    }
    if (options.onBlock !== undefined && options.onBlock !== '') {
      const command = options.onBlock;
      const run = options.runCommand ?? runShellCommand;
      this.add('--on-block command', isBlockEvent, (e) => this.runCommand(run, command, e), false);
    }
  }

  /** Whether anything is configured (a notifier without destinations does nothing). */
  get enabled(): boolean {
    return this.destinations.length > 0;
  }

  get stats(): NotifierStats {
    return { sent: this.sent, failed: this.failed, dropped: this.destinations.reduce((a, d) => a + d.dropped, 0) };
  }

  /** Notifications queued or being sent, all destinations together. */
  get pending(): number {
    return this.destinations.reduce((a, d) => a + d.queue.length + (d.running ? 1 : 0), 0);
  }

  /**
   * Queues `e` for every destination that takes it; never waits, never throws. The promise
   * resolves once every destination is done with it (sent, given up, or dropped), at once when
   * none takes it: the service journals then that the event was announced.
   */
  notify(e: NotifyEvent): Promise<void> {
    if (this.closed) return Promise.resolve();
    const limit = this.options.queueLimit ?? 100;
    const done: Promise<void>[] = [];
    for (const d of this.destinations) {
      if (!d.accepts(e)) continue;
      if (d.queue.length >= limit) {
        d.queue.shift()!.settle();
        d.dropped++;
        // Said once per overflow; how many were lost is said when the queue has drained.
        if (d.droppedNow++ === 0) this.options.log('warn', `notifications to ${d.label}: queue full (${limit}); dropping the oldest`);
      }
      let settle: () => void = () => {};
      done.push(new Promise<void>((resolve) => (settle = resolve)));
      d.queue.push({ event: e, settle });
      this.kick(d);
    }
    return Promise.all(done).then(() => undefined);
  }

  /**
   * Stops taking notifications, gives those queued `graceMs` to go out (a shutdown right after a
   * block should still tell the phone), then abandons the rest and says how many.
   */
  async close(graceMs = 5000): Promise<void> {
    this.closed = true;
    const all = this.idle();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
      timer.unref();
    });
    await Promise.race([all, grace]);
    clearTimeout(timer);
    const left = this.pending;
    this.abort.abort();
    await all;
    for (const d of this.destinations) for (const q of d.queue.splice(0)) q.settle();
    if (left > 0) this.options.log('warn', `notifications: ${left} not delivered before shutdown`);
  }

  /** Resolves once every destination's queue is empty and nothing is being sent. */
  async idle(): Promise<void> {
    while (this.destinations.some((d) => d.running)) await Promise.all(this.destinations.map((d) => d.running));
  }

  private kick(d: Destination): void {
    if (d.running) return;
    d.running = this.drain(d).finally(() => {
      d.running = undefined;
      // A notification queued while the sender was finishing.
      if (d.queue.length > 0 && !this.abort.signal.aborted) this.kick(d);
    });
  }

  private add(label: string, accepts: Destination['accepts'], send: Destination['send'], retries: boolean): void {
    this.destinations.push({ label, accepts, send, retries, queue: [], running: undefined, dropped: 0, droppedNow: 0 });
  }

  private async drain(d: Destination): Promise<void> {
    const signal = this.abort.signal;
    const maxAttempts = d.retries ? (this.options.maxAttempts ?? 8) : 1;
    while (d.queue.length > 0 && !signal.aborted) {
      const queued = d.queue.shift()!;
      const e = queued.event;
      try {
        await this.deliver(d, e, signal, maxAttempts);
      } finally {
        queued.settle();
      }
    }
    if (d.droppedNow > 0 && d.queue.length === 0) {
      this.options.log('warn', `notifications to ${d.label}: ${d.droppedNow} dropped while the queue was full`);
      d.droppedNow = 0;
    }
  }

  /** One notification to one destination, retried while the failure may pass. */
  private async deliver(d: Destination, e: NotifyEvent, signal: AbortSignal, maxAttempts: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      let result: SendResult;
      try {
        result = await d.send(e, signal);
      } catch (err) {
        result = { ok: false, retry: true, error: err instanceof Error ? err.message : String(err) };
      }
      if (result.ok) {
        this.sent++;
        return;
      }
      if (!result.retry || attempt >= maxAttempts || signal.aborted) {
        this.failed++;
        const tries = attempt > 1 ? ` after ${attempt} attempts` : '';
        this.options.log('warn', `notification ${e.event} to ${d.label} failed${tries}: ${result.error}`, { event: e.event });
        return;
      }
      const delayMs = Math.min(this.options.maxDelayMs ?? 60_000, result.retryAfterMs ?? this.backoff(attempt));
      if (attempt === 1) this.options.log('warn', `notification ${e.event} to ${d.label} failed (${result.error}); retrying with backoff`, { event: e.event, delayMs });
      await this.sleep(delayMs, signal);
    }
  }

  /** Jittered exponential backoff in [half, full] of the step. */
  private backoff(failures: number): number {
    const step = Math.min(this.options.maxDelayMs ?? 60_000, (this.options.initialDelayMs ?? 1000) * 2 ** (failures - 1));
    return Math.round(step / 2 + (step / 2) * this.random());
  }

  private async post(target: NotifyTarget, e: NotifyEvent, signal: AbortSignal): Promise<SendResult> {
    const request = requestFor(target, e);
    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs ?? 10_000);
    try {
      const res = await this.fetch(target.url, { method: 'POST', headers: { ...target.headers, ...request.headers }, body: request.body, signal: AbortSignal.any([signal, timeout]) });
      // Drain the body so the connection can be reused or closed.
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { ok: true };
      const retryAfter = Number(res.headers.get('retry-after'));
      return {
        ok: false,
        retry: RETRYABLE_STATUS.has(res.status),
        error: `HTTP ${res.status}`,
        ...(Number.isFinite(retryAfter) && retryAfter > 0 && { retryAfterMs: retryAfter * 1000 }),
      };
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = timeout.aborted ? `no answer within ${(this.options.requestTimeoutMs ?? 10_000) / 1000} s` : (cause?.code ?? cause?.message ?? (err as Error).message);
      return { ok: false, retry: true, error: scrubSecrets(String(why), target.secrets) };
    }
  }

  private async runCommand(run: CommandRunner, command: string, e: NotifyEvent): Promise<SendResult> {
    const env = onBlockEnvironment(e);
    // -blocknotify's convention: %s is the block hash (hex, so safe in a shell command).
    const line = command.replaceAll('%s', e.block?.hash ?? '');
    const r = await run(line, env, this.options.commandTimeoutMs ?? 30_000);
    if (r.timedOut) return { ok: false, retry: false, error: `killed after ${(this.options.commandTimeoutMs ?? 30_000) / 1000} s` };
    if (r.code === 0) return { ok: true };
    const tail = r.output.trim().split('\n').pop() ?? '';
    return { ok: false, retry: false, error: `${r.signal !== null ? `killed by ${r.signal}` : `exit ${r.code}`}${tail ? `: ${tail}` : ''}` };
  }
}

/** What goes over the wire to each kind of destination. */
export function requestFor(target: NotifyTarget, e: NotifyEvent): { headers: Record<string, string>; body: string } {
  switch (target.kind) {
    case 'discord':
      // Discord limits content to 2000 characters.
      return { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ content: `**${notificationTitle(e)}**\n${notificationMessage(e)}`.slice(0, 2000) }) };
    case 'ntfy':
      return {
        headers: {
          'content-type': 'text/plain; charset=utf-8',
          // HTTP header values are Latin-1: the title is ASCII by construction.
          title: notificationTitle(e),
          priority: e.event === 'orphaned' || e.event === 'found' || e.event === 'node-unreachable' || e.event === 'isolated' ? 'high' : 'default',
          tags: NTFY_TAGS[e.event] ?? 'pick',
        },
        body: notificationMessage(e),
      };
    case 'webhook':
      return { headers: { 'content-type': 'application/json' }, body: JSON.stringify(notificationBody(e)) };
  }
}

// ntfy shows tags that name an emoji as that emoji.
const NTFY_TAGS: Partial<Record<NotifyEvent['event'], string>> = {
  found: 'tada,pick',
  accepted: 'white_check_mark,pick',
  rejected: 'x,pick',
  orphaned: 'warning,pick',
  restored: 'recycle,pick',
  isolated: 'warning,satellite',
  matured: 'moneybag,pick',
  'node-unreachable': 'rotating_light',
  'node-back': 'white_check_mark',
};

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

const OUTPUT_KEEP = 2048;

/** Runs `command` with /bin/sh (as bitcoind runs -blocknotify); kills its process group on timeout. */
export const runShellCommand: CommandRunner = (command, env, timeoutMs) =>
  new Promise((resolve) => {
    let output = '';
    let timedOut = false;
    const child = spawn('/bin/sh', ['-c', command], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-OUTPUT_KEEP);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      timedOut = true;
      // The shell's children too: a stuck curl must not outlive the timeout.
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, timedOut: false, output: err.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, output });
    });
  });
