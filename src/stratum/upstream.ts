/**
 * What every pool client of `mine --pool` shares, whichever wire it speaks (docs/stratum.md,
 * "Mining through a pool"): the URLs tried in order as fail-over (the first preferred again at
 * every reconnect), exponential backoff with jitter after a failed round, a redirect honoured
 * (client.reconnect, Reconnect), shares kept while disconnected and sent if the session comes
 * back unchanged, and the events the service records. A wire (v1/client.ts, v2/client.ts) runs
 * one session at a time and sends shares its own way.
 * @module
 */
import { EventEmitter } from 'node:events';

import { targetToBytes } from '../bitcoin/target.js';
import { poolRolling } from '../bitcoin/version-rolling.js';
import type { Job } from '../work/job.js';

export interface UpstreamOptions {
  /** Pool URLs, in fail-over order. */
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

/** A share as the orchestrator found it (from its PoolShare). */
export interface ShareToSubmit {
  readonly job: Job;
  /** The whole extranonce the header was built with (the pool's part first). */
  readonly extranonce: Uint8Array;
  readonly ntime: number;
  readonly nonce: number;
  readonly version: number;
  readonly difficulty: number;
}

export interface UpstreamEvents {
  job: [{ job: Job; clean: boolean; receivedAt: number }];
  connected: [{ url: string; extranonce1: string; extranonce2Size: number; versionRolling: boolean }];
  disconnected: [{ url: string; reason: string }];
  difficulty: [number];
  /**
   * The pool's verdict on a share: `reason` in the pool's own words, `kind` what metrics count it
   * as (stale, duplicate, low-difficulty, unauthorized, not-subscribed, other).
   */
  share: [{ accepted: boolean; reason?: string; kind?: string; difficulty: number }];
  /** A share that was not sent: its job belongs to an earlier session (another extranonce). */
  dropped: [{ reason: string }];
  warning: [string];
}

/** What the loop needs to know of a wire's session. */
export interface UpstreamSession {
  readonly url: string;
  /** The pool's part of the extranonce: a share found on another session's work is not sent. */
  readonly extranonce1: Uint8Array;
  /** Logged in and mining (V1: authorized; V2: a channel open). */
  readonly ready: boolean;
  readonly closed: boolean;
  readonly difficulty: number;
  /** Ends the session (the loop then tries again). */
  end(reason: string): void;
}

/** Shares kept while disconnected, sent when the session comes back unchanged. */
const QUEUE_LIMIT = 100;

export abstract class UpstreamClient<S extends UpstreamSession = UpstreamSession> extends EventEmitter<UpstreamEvents> {
  protected session: S | undefined;
  private stopped = false;
  private failures = 0;
  private readonly queue: ShareToSubmit[] = [];
  /** Where the pool sent us next (tried before the configured URLs). */
  protected redirect: string | undefined;
  /** How long the pool asked to wait before reconnecting. */
  protected redirectDelay: number | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(protected readonly options: UpstreamOptions) {
    super();
  }

  get connectedUrl(): string | undefined {
    const s = this.session;
    return s && !s.closed && s.ready ? s.url : undefined;
  }

  get difficulty(): number | undefined {
    return this.session?.difficulty;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.session?.end('stopping');
    this.wake?.();
    await this.loop;
  }

  /** Sends a share now, or keeps it for the next session when disconnected. */
  submit(share: ShareToSubmit): void {
    const s = this.session;
    if (!s || s.closed || !s.ready) {
      if (this.queue.length < QUEUE_LIMIT) this.queue.push(share);
      else this.emit('dropped', { reason: 'disconnected, and the queue of waiting shares is full' });
      return;
    }
    const pool = share.job.pool;
    if (!pool || !Buffer.from(pool.extranonce1).equals(s.extranonce1)) {
      this.emit('dropped', { reason: 'its job belongs to an earlier session (another extranonce1)' });
      return;
    }
    this.send(s, share);
  }

  /** Sends one share on a ready session whose extranonce it was found with. */
  protected abstract send(session: S, share: ShareToSubmit): void;

  /**
   * One session with `url`: resolves when it ends — 'connected' if it got as far as mining (the
   * loop then starts again from the first URL), else 'failed'.
   */
  protected abstract runSession(url: string): Promise<'connected' | 'failed'>;

  /** The session is ready: shares kept while disconnected go out if they belong to it. */
  protected flushQueue(s: S): void {
    const waiting = this.queue.splice(0);
    for (const share of waiting) {
      if (share.job.pool && Buffer.from(share.job.pool.extranonce1).equals(s.extranonce1)) this.submit(share);
      else this.emit('dropped', { reason: 'found while disconnected, for a session the pool did not resume' });
    }
  }

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
}

/** What a pool's job carries, whichever wire spelled it (byte orders already undone). */
export interface UpstreamJobFields {
  /** The orchestrator's id of the job (unique in this process). */
  readonly id: string;
  /** The pool's job id as it must be sent back. */
  readonly poolJobId: string;
  /** The previous block hash, internal (header) order. */
  readonly prevHash: Uint8Array;
  readonly version: number;
  readonly bits: number;
  /** The block target of `bits` (the caller checked it is valid). */
  readonly target: bigint;
  /** The header time the pool wants (shares go back with it). */
  readonly ntime: number;
  /** The coinbase without BIP141 fields, before and after the extranonce. */
  readonly coinb1: Uint8Array;
  readonly coinb2: Uint8Array;
  /** The pool's part of the extranonce (V1 extranonce1, V2 extranonce_prefix). */
  readonly extranoncePrefix: Uint8Array;
  /** The miner's part (V1 extranonce2_size, V2 extranonce_size). */
  readonly extranonceSize: number;
  readonly merkleBranch: readonly Uint8Array[];
  readonly clean: boolean;
  readonly difficulty: number;
  readonly shareTarget: bigint;
  /** The version bits the pool lets this job roll (0: none). */
  readonly versionMask: number;
  /** Why the mask is 0, in the wire's own terms (the engines' one line); BIP310's by default. */
  readonly noRollingReason?: string;
}

/** The BIP34 height at the start of the coinbase's scriptSig, when it is there (for the log). */
export function coinbaseHeight(coinb1: Uint8Array): number {
  // version 4, input count 1, prevout 36, script length (1 byte for any coinbase), push opcode.
  const push = coinb1[42];
  if (push === undefined || push < 1 || push > 8 || coinb1.length < 43 + push) return 0;
  let h = 0;
  for (let i = push - 1; i >= 0; i--) h = h * 256 + coinb1[43 + i]!;
  return h;
}

/** A pool's job as the orchestrator's Job: no transactions of its own, its shares go to the pool. */
export function upstreamJob(f: UpstreamJobFields): Job {
  return {
    id: f.id,
    height: coinbaseHeight(f.coinb1),
    previousBlockHash: Buffer.from(f.prevHash).reverse().toString('hex'),
    prevHash: Uint8Array.from(f.prevHash),
    version: f.version >>> 0,
    bits: f.bits >>> 0,
    target: f.target,
    targetBytes: targetToBytes(f.target),
    curtime: f.ntime,
    mintime: f.ntime,
    coinbase: { coinb1: Uint8Array.from(f.coinb1), coinb2: Uint8Array.from(f.coinb2), extranonceSize: f.extranoncePrefix.length + f.extranonceSize, scriptSigSize: 0, hasWitnessCommitment: false },
    payoutScript: new Uint8Array(0),
    coinbaseTag: undefined,
    witnessCommitment: undefined,
    coinbaseValue: 0,
    merkleBranch: f.merkleBranch.map((h) => Uint8Array.from(h)),
    txCount: 0,
    transactionsHex: '',
    cleanJobs: f.clean,
    longpollId: undefined,
    rolling: poolRolling(f.versionMask, f.noRollingReason),
    createdAt: Date.now(),
    pool: { jobId: f.poolJobId, extranonce1: Uint8Array.from(f.extranoncePrefix), difficulty: f.difficulty, shareTarget: f.shareTarget, versionMask: f.versionMask },
  };
}
