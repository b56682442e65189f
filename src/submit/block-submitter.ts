// Hands solved blocks to the node: journal first (fsynced), then submitblock, retrying while
// the node cannot be reached, and records what the node said. The node is reached only through
// injected functions, so this module knows nothing of RPC clients and tests can use fakes.
import { NodeUnreachableError, RpcError } from '../node/errors.js';
import type { FoundBlockJournal, FoundBlockRecord, Outcome, OutcomeRecord } from './found-block-journal.js';

export type LogLevel = 'info' | 'warn' | 'error';
export type Logger = (level: LogLevel, msg: string, fields?: Readonly<Record<string, unknown>>) => void;

export interface RetryPolicy {
  /** Delay after the first failure; doubles per consecutive failure. Default 100. */
  readonly initialDelayMs?: number;
  /** Cap on one delay. Default 5000. */
  readonly maxDelayMs?: number;
  /** Cap on submitblock calls for one block; then 'unconfirmed'. Default Infinity. */
  readonly maxAttempts?: number;
  /**
   * Cap on failures that a retry is unlikely to fix soon (credentials refused, an RPC error
   * that says nothing about the block, anything unexpected). Default 3. The block stays pending.
   */
  readonly boundedAttempts?: number;
}

export interface BlockSubmitterDeps {
  readonly journal: Pick<FoundBlockJournal, 'appendFound' | 'appendOutcome' | 'pending'>;
  /**
   * Bitcoin Core's submitblock: null = accepted, else its reason string. `signal` is the
   * submission's (SubmitOptions): once it aborts the answer is no longer waited for, so a
   * transport that can cancel its request should.
   */
  readonly submitBlock: (hex: string, signal?: AbortSignal) => Promise<string | null>;
  /** Whether the block is in the node's active chain; 'unknown' when that cannot be told. */
  readonly blockInActiveChain: (hash: string) => Promise<boolean | 'unknown'>;
  readonly log: Logger;
  readonly retry?: RetryPolicy;
  /** Resolves after ms, or early when the signal aborts. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** [0, 1) source for backoff jitter. */
  readonly random?: () => number;
}

export interface SubmitOutcome {
  readonly hash: string;
  readonly outcome: Outcome;
  readonly reason?: string;
  /** submitblock calls made (0 when replay found the node already had the block). */
  readonly attempts: number;
  /**
   * Milliseconds from submit() being called to the first submitblock call being made, journal
   * fsync included: the solved-to-submitted latency the benchmark reports.
   */
  readonly submitMs: number;
  /** False when the journal could not take the found record (the block was submitted anyway). */
  readonly journaled: boolean;
}

export interface SubmitOptions {
  /**
   * Stops retrying and stops waiting for a submitblock in flight (outcome 'unconfirmed', the
   * block stays pending for replay), e.g. when the stop's grace runs out.
   */
  readonly signal?: AbortSignal;
}

export interface ReplayOptions extends SubmitOptions {
  /** Only records of this network are replayed; others stay pending for a run on theirs. */
  readonly network?: string;
}

// JSON-RPC codes from Bitcoin Core's rpc/protocol.h.
const RPC_DESERIALIZATION_ERROR = -22; // "Block decode failed", "Block does not start with a coinbase"
const RPC_VERIFY_ERROR = -25;
const RPC_IN_WARMUP = -28;

type Failure = 'transient' | 'bounded' | 'rejected';

export class BlockSubmitter {
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxAttempts: number;
  private readonly boundedAttempts: number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly deps: BlockSubmitterDeps) {
    this.initialDelayMs = deps.retry?.initialDelayMs ?? 100;
    this.maxDelayMs = deps.retry?.maxDelayMs ?? 5000;
    this.maxAttempts = deps.retry?.maxAttempts ?? Infinity;
    this.boundedAttempts = deps.retry?.boundedAttempts ?? 3;
    this.sleep = deps.sleep ?? abortableSleep;
    this.random = deps.random ?? Math.random;
  }

  /** Journals the block (fsync), then submits it until the node answers; records the outcome. */
  submit(found: FoundBlockRecord, options: SubmitOptions = {}): Promise<SubmitOutcome> {
    return this.run(found, true, options.signal);
  }

  /**
   * Start-up: every pending journal record is either settled from what the node already knows
   * (in the active chain → 'accepted', known elsewhere → 'duplicate') or submitted again,
   * without a second 'found' line. Returns one outcome per record handled, in journal order.
   */
  async replay(isKnown: (hash: string) => Promise<boolean>, options: ReplayOptions = {}): Promise<SubmitOutcome[]> {
    const results: SubmitOutcome[] = [];
    const pending = await this.deps.journal.pending();
    for (const found of pending) {
      if (options.network !== undefined && found.network !== options.network) {
        this.deps.log('warn', 'journal: pending block of another network left for a run on it', {
          hash: found.hash,
          height: found.height,
          network: found.network,
        });
        continue;
      }
      let known = false;
      try {
        known = await isKnown(found.hash);
      } catch (err) {
        // Submitting again is safe: a block the node has comes back as "duplicate".
        this.deps.log('warn', 'replay: could not ask the node about a journaled block; submitting it again', {
          hash: found.hash,
          error: errorMessage(err),
        });
      }
      if (known) {
        const outcome = (await this.inActiveChain(found.hash)) === true ? 'accepted' : 'duplicate';
        results.push(await this.record(found, { outcome, reason: 'known to the node at replay' }, 0, 0, true));
        continue;
      }
      results.push(await this.run(found, false, options.signal));
    }
    return results;
  }

  private async run(found: FoundBlockRecord, journalFirst: boolean, signal: AbortSignal | undefined): Promise<SubmitOutcome> {
    const started = performance.now();
    let journaled = true;
    if (journalFirst) {
      try {
        await this.deps.journal.appendFound(found);
      } catch (err) {
        // A full or broken disk must not cost the block: submit anyway, and put the block in the
        // log so an operator can still resubmit it by hand if the node never answers.
        journaled = false;
        this.deps.log('error', 'found block could not be journaled; submitting it anyway', {
          hash: found.hash,
          height: found.height,
          error: errorMessage(err),
          blockHex: found.blockHex,
        });
      }
    }

    let submitMs: number | undefined;
    let attempts = 0;
    let consecutive = 0;
    let bounded = 0;
    let result: { outcome: Outcome; reason?: string };
    for (;;) {
      if (signal?.aborted) {
        result = { outcome: 'unconfirmed', reason: 'submission stopped before the node answered' };
        break;
      }
      submitMs ??= performance.now() - started;
      attempts++;
      let answer: string | null;
      try {
        answer = await untilAborted(this.deps.submitBlock(found.blockHex, signal), signal);
      } catch (err) {
        if (err === ABANDONED) {
          // A node that does not answer must not hold a stop: the block stays pending.
          result = { outcome: 'unconfirmed', reason: 'the node had not answered when the submission was stopped' };
          break;
        }
        const kind = classifyFailure(err);
        const message = errorMessage(err);
        if (kind === 'rejected') {
          result = { outcome: 'rejected', reason: message };
          break;
        }
        if (kind === 'bounded') bounded++;
        if (attempts >= this.maxAttempts || bounded >= this.boundedAttempts) {
          result = { outcome: 'unconfirmed', reason: message };
          break;
        }
        consecutive++;
        const delayMs = this.backoff(consecutive);
        this.deps.log('warn', 'submitblock failed; retrying', { hash: found.hash, attempt: attempts, delayMs, error: message });
        await this.sleep(delayMs, signal);
        continue;
      }
      result = await this.classifyAnswer(found.hash, answer);
      break;
    }
    return this.record(found, result, attempts, submitMs ?? performance.now() - started, journaled);
  }

  /** Maps submitblock's answer to an outcome. */
  private async classifyAnswer(hash: string, answer: string | null): Promise<{ outcome: Outcome; reason?: string }> {
    if (answer === null) {
      const active = await this.inActiveChain(hash);
      if (active === true) return { outcome: 'accepted' };
      return {
        outcome: 'inconclusive',
        reason: active === false ? 'accepted by submitblock but not in the active chain' : 'active chain could not be checked',
      };
    }
    if (answer === 'duplicate') {
      // The hash commits to our own coinbase, so the node can only have this block from us, e.g.
      // from an earlier attempt whose answer was lost in transit. In the active chain it counts.
      if ((await this.inActiveChain(hash)) === true) return { outcome: 'accepted', reason: 'duplicate' };
      return { outcome: 'duplicate', reason: answer };
    }
    if (answer === 'inconclusive' || answer === 'duplicate-inconclusive') return { outcome: 'inconclusive', reason: answer };
    return { outcome: 'rejected', reason: answer };
  }

  private async inActiveChain(hash: string): Promise<boolean | 'unknown'> {
    try {
      return await this.deps.blockInActiveChain(hash);
    } catch (err) {
      this.deps.log('warn', 'could not check whether the block is in the active chain', { hash, error: errorMessage(err) });
      return 'unknown';
    }
  }

  private async record(
    found: FoundBlockRecord,
    result: { outcome: Outcome; reason?: string },
    attempts: number,
    submitMs: number,
    journaled: boolean,
  ): Promise<SubmitOutcome> {
    const line: OutcomeRecord = {
      type: 'outcome',
      time: new Date().toISOString(),
      hash: found.hash,
      outcome: result.outcome,
      ...(result.reason !== undefined ? { reason: result.reason } : {}),
    };
    try {
      await this.deps.journal.appendOutcome(line);
    } catch (err) {
      // Not fatal: without the line the block merely stays pending and replay asks the node again.
      this.deps.log('error', 'block outcome could not be journaled', { hash: found.hash, error: errorMessage(err) });
    }
    const level = result.outcome === 'accepted' ? 'info' : result.outcome === 'duplicate' || result.outcome === 'inconclusive' ? 'warn' : 'error';
    const fields = { hash: found.hash, height: found.height, outcome: result.outcome, reason: result.reason, attempts, submitMs };
    this.deps.log(level, `block ${found.height} ${result.outcome}${result.reason !== undefined ? ` (${result.reason})` : ''}`, fields);
    return { hash: found.hash, outcome: result.outcome, ...(result.reason !== undefined ? { reason: result.reason } : {}), attempts, submitMs, journaled };
  }

  /** Exponential backoff with jitter in [half, full] of the step, so retries do not synchronize. */
  private backoff(failures: number): number {
    const step = Math.min(this.maxDelayMs, this.initialDelayMs * 2 ** (failures - 1));
    return Math.round(step / 2 + (step / 2) * this.random());
  }
}

/**
 * transient: the node was not reached or is starting up; retry until maxAttempts.
 * rejected: the node judged the block itself (it could not be decoded).
 * bounded: anything else; a few retries, then the block waits for replay.
 */
function classifyFailure(err: unknown): Failure {
  if (err instanceof NodeUnreachableError) return 'transient';
  if (err instanceof RpcError) {
    if (err.code === RPC_IN_WARMUP) return 'transient';
    if (err.code === RPC_DESERIALIZATION_ERROR || err.code === RPC_VERIFY_ERROR) return 'rejected';
    return 'bounded';
  }
  // NodeAuthError (a restarting node rewrites its cookie, so a few tries are worth it) and
  // anything unexpected.
  return 'bounded';
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Rejected with by untilAborted: the caller stopped waiting for the answer. */
const ABANDONED: unique symbol = Symbol('abandoned');

/** `call`'s result, or a rejection with ABANDONED as soon as `signal` aborts (the call is left to end on its own). */
function untilAborted<T>(call: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return call;
  return new Promise<T>((resolve, reject) => {
    const abandon = (): void => reject(ABANDONED);
    if (signal.aborted) abandon();
    signal.addEventListener('abort', abandon, { once: true });
    call.then(resolve, reject).finally(() => signal.removeEventListener('abort', abandon));
  });
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
