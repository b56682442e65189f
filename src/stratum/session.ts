/**
 * One miner's share judging, whatever wire it speaks: a Stratum V1 connection or a Stratum V2
 * channel. It owns the difficulty (vardiff), what each job sent owes (the difficulty in force
 * when it was sent — after a change, the lower of both for jobs already out, since firmware
 * applies a new difficulty only to jobs that arrive after it), and the verdict on a share: its
 * job known and current, not a duplicate, its header rebuilt and hashed (share.ts), at or above
 * what its job owes. The wire layer turns the verdict into its own reply.
 * @module
 */
import type { StratumJob } from './job-book.js';
import { checkShare, rejected, type CheckedShare, type RejectedShare } from './share.js';
import { Vardiff } from './vardiff.js';

/** What a session needs of its pool. */
export interface SessionHost {
  now(): number;
  readonly vardiff: { readonly targetSeconds: number; readonly minDifficulty: number; readonly startDifficulty: number };
  networkDifficulty(): number;
  /** A job by id: undefined when unknown, `stale` when it belongs to a previous tip. */
  findJob(id: string): { job: StratumJob; stale: boolean } | undefined;
}

/** A share's fields as a session takes them: the extranonce without the session's own prefix. */
export interface SubmittedShare {
  /** The miner's part of the extranonce (empty when the pool fixed all of it). */
  readonly extranonce: Uint8Array;
  readonly ntime: number;
  readonly nonce: number;
  /** The full header version. */
  readonly version: number;
}

export type ShareVerdict = { readonly ok: true; readonly share: CheckedShare; readonly owed: number; readonly job: StratumJob } | RejectedShare;

export class ShareSession {
  readonly connectedAt: number;
  /** Difficulty owed per job id sent. */
  private readonly owed = new Map<string, number>();
  private readonly vardiff: Vardiff;
  /** Difficulty last sent to the miner. */
  private sentDifficulty: number | undefined;
  private pendingDifficulty: number | undefined;
  private readonly prefixHex: string;

  constructor(
    private readonly host: SessionHost,
    /** The pool's part of the extranonce (unique to this session). */
    readonly extranoncePrefix: Buffer,
    /** Version bits the miner may roll (0: none). */
    public versionMask: number,
    /** The lowest difficulty this miner accepts (a Stratum V2 channel's max_target). */
    private floor = 0,
  ) {
    this.connectedAt = host.now();
    this.prefixHex = extranoncePrefix.toString('hex');
    const floorOf = () => Math.max(host.vardiff.minDifficulty, this.floor);
    this.vardiff = new Vardiff(
      Math.max(host.vardiff.startDifficulty, floor),
      {
        targetSeconds: host.vardiff.targetSeconds,
        get minDifficulty() {
          return floorOf();
        },
        maxDifficulty: () => host.networkDifficulty(),
      },
      this.connectedAt,
    );
  }

  /** A new lowest difficulty (the miner asked for a smaller maximum target): due with the next job. */
  raiseFloor(floor: number): void {
    this.floor = floor;
    const now = this.host.now();
    const d = this.vardiff.difficultyNow(now);
    if (this.sentDifficulty !== undefined && d !== this.sentDifficulty) this.pendingDifficulty = d;
  }

  /** The difficulty announced without a job (a Stratum V2 channel's initial target). */
  announce(): number {
    const d = this.vardiff.difficultyNow(this.host.now());
    this.pendingDifficulty = undefined;
    this.sentDifficulty = d;
    return d;
  }

  get difficulty(): number {
    return this.vardiff.difficulty;
  }

  /** The difficulty last sent (undefined before the first job). */
  get sent(): number | undefined {
    return this.sentDifficulty;
  }

  /** A difficulty change waits for the next job; true when one is due. */
  get difficultyChangeDue(): boolean {
    return this.pendingDifficulty !== undefined && this.pendingDifficulty !== this.sentDifficulty;
  }

  /** Called periodically: vardiff for a silent miner, or a lower network difficulty. */
  tick(): void {
    const next = this.vardiff.onTick(this.host.now());
    if (next !== undefined) this.pendingDifficulty = next;
  }

  /** A miner's own difficulty (a suggestion, a hash rate): the start, or due with the next job. */
  suggest(difficulty: number): number {
    const set = this.vardiff.set(difficulty, this.host.now());
    if (this.sentDifficulty !== undefined && set !== this.sentDifficulty) this.pendingDifficulty = set;
    return set;
  }

  /**
   * `job` is about to be sent: the difficulty to send with it, and whether it differs from the
   * one sent last (then the wire sends the new difficulty first).
   */
  jobSent(job: StratumJob): { difficulty: number; changed: boolean } {
    const difficulty = this.pendingDifficulty ?? this.vardiff.difficultyNow(this.host.now());
    this.pendingDifficulty = undefined;
    const changed = difficulty !== this.sentDifficulty;
    this.sentDifficulty = difficulty;
    // A job sent again after a change owes the lower of both difficulties: shares already
    // being hashed for it were meant for the old one.
    const before = this.owed.get(job.id);
    this.owed.set(job.id, before === undefined ? difficulty : Math.min(before, difficulty));
    return { difficulty, changed };
  }

  /** What a job sent owes (undefined: never sent to this miner). */
  owes(jobId: string): number | undefined {
    return this.owed.get(jobId);
  }

  /** Forget jobs of previous tips (their shares are stale anyway). */
  forgetJobs(keep: (id: string) => boolean): void {
    for (const id of this.owed.keys()) if (!keep(id)) this.owed.delete(id);
  }

  /** The verdict on a share for job `jobId` (`label` is how the miner spelled the id). */
  judge(jobId: string, fields: SubmittedShare, label = jobId): ShareVerdict {
    const found = this.host.findJob(jobId);
    const owed = this.owed.get(jobId);
    if (found === undefined || owed === undefined) return rejected('unknown-job', `job ${JSON.stringify(label.slice(0, 32))} not found`);
    const job = found.job;
    const extranonce = fields.extranonce.length === 0 ? this.extranoncePrefix : Buffer.concat([this.extranoncePrefix, fields.extranonce]);
    // The same share again is a duplicate even once its job has gone stale (say what it is).
    const key = `${this.prefixHex}${Buffer.from(fields.extranonce).toString('hex')}:${fields.ntime >>> 0}:${fields.nonce >>> 0}:${fields.version >>> 0}`;
    if (job.seen.has(key)) return rejected('duplicate', 'duplicate share');
    if (found.stale) return rejected('stale', 'stale: the job is for a previous block');
    const share = checkShare(job.prepared, { extranonce, ntime: fields.ntime, nonce: fields.nonce, version: fields.version }, this.versionMask, Math.floor(this.host.now() / 1000));
    if (!share.ok) return share;
    // A block is worth any share target (its difficulty in doubles may round a hair under the cap).
    if (share.difficulty < owed && !share.isBlock) return rejected('low-difficulty', `low difficulty share: ${formatDifficulty(share.difficulty)} < ${formatDifficulty(owed)}`);
    job.seen.add(key);
    const next = this.vardiff.onShare(owed, this.host.now());
    if (next !== undefined) this.pendingDifficulty = next;
    return { ok: true, share, owed, job };
  }
}

export function formatDifficulty(d: number): string {
  return d >= 1 ? String(Number(d.toPrecision(6))) : d.toPrecision(3);
}
