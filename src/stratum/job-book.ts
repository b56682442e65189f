/**
 * The pool's jobs of the current tip, whatever wire carries them. Every orchestrator job (a
 * template) gets one variant per payout address among the connected workers — built on demand, a
 * new coinbase only — each with its own job number (Stratum V1 spells it in hex, Stratum V2 sends
 * the U32; one number for every connection and channel, so no two live jobs share one). All jobs
 * of the current tip are kept until a new tip arrives (a miner may still be finishing one sent
 * before the last refresh); the previous tip's ids are kept one more tip so their shares are
 * answered "stale" rather than "not found".
 * @module
 */
import type { Job } from '../work/job.js';
import { jobForPayout, jobTime } from '../work/job.js';
import { prepareJob, type PreparedJob } from './share.js';

export interface StratumJob {
  /** The job number (U32): Stratum V2's job_id. */
  readonly seq: number;
  /** The job number in hex: Stratum V1's job_id, and the key of every per-job map. */
  readonly id: string;
  /** The orchestrator job this is a variant of (its payout may differ). */
  readonly base: Job;
  readonly prepared: PreparedJob;
  readonly ntime: number;
  readonly cleanJobs: boolean;
  /** Shares seen (duplicates), keyed by extranonce:ntime:nonce:version. */
  readonly seen: Set<string>;
}

export class JobBook {
  private seq = Math.floor(Math.random() * 0x10000);
  private base: Job | undefined;
  private cleanJobs = true;
  /** Variants of the current base job, by payout key. */
  private variants = new Map<string, StratumJob>();
  private readonly current = new Map<string, StratumJob>();
  private readonly previous = new Map<string, StratumJob>();
  private tip: string | undefined;
  /** A block was found on the current tip: its jobs are stale until the next tip. */
  private retired = false;

  constructor(
    /** The operator's payout key (the base job already pays it). */
    private readonly operatorPayoutKey: string,
  ) {}

  get currentTip(): string | undefined {
    return this.tip;
  }

  get hasWork(): boolean {
    return this.base !== undefined;
  }

  /** A new orchestrator job: a new tip clears the book; new transactions add to it. */
  setJob(job: Job, newTip: boolean): void {
    if (newTip || job.previousBlockHash !== this.tip) {
      this.previous.clear();
      for (const [id, j] of this.current) this.previous.set(id, j);
      this.current.clear();
      this.tip = job.previousBlockHash;
      this.retired = false;
    }
    this.base = job;
    this.cleanJobs = newTip;
    this.variants = new Map();
  }

  /** The tip was solved (a block found on it): every job of it is stale from now on. */
  retireTip(tip: string): void {
    if (tip !== this.tip) return;
    this.retired = true;
    this.variants = new Map();
    this.base = undefined;
  }

  /** The current job for a payout, building the variant on first use. */
  jobFor(payoutKey: string, payoutScript: Uint8Array): StratumJob | undefined {
    const base = this.base;
    if (!base) return undefined;
    let sj = this.variants.get(payoutKey);
    if (sj) return sj;
    this.seq = (this.seq + 1) >>> 0;
    const id = this.seq.toString(16);
    const job = payoutKey === this.operatorPayoutKey ? base : jobForPayout(base, `${base.id}.${id}`, payoutScript);
    sj = {
      seq: this.seq,
      id,
      base,
      prepared: prepareJob(job),
      ntime: jobTime(job),
      cleanJobs: this.cleanJobs,
      seen: new Set(),
    };
    this.variants.set(payoutKey, sj);
    this.current.set(id, sj);
    return sj;
  }

  /**
   * The same work under a new job number, both valid (Stratum V2 sends a job again after a new
   * target, and a job_id may not be reused while its job is valid: sv2-spec §5.3.15–16). The
   * duplicate set is shared: a share is the same share under either number.
   */
  reissue(job: StratumJob): StratumJob {
    this.seq = (this.seq + 1) >>> 0;
    const again: StratumJob = { ...job, seq: this.seq, id: this.seq.toString(16) };
    if (this.current.get(job.id) === job) this.current.set(again.id, again);
    return again;
  }

  find(id: string): { job: StratumJob; stale: boolean } | undefined {
    const cur = this.current.get(id);
    if (cur) return { job: cur, stale: this.retired };
    const old = this.previous.get(id);
    return old ? { job: old, stale: true } : undefined;
  }
}
