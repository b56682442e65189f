// Hands solved blocks to the nodes: journal first (fsynced), then submitblock to every node at
// once, retrying each while it cannot be reached, and records what each node said (an `answer`
// line per node) and what that makes of the block (the `outcome` line): accepted as soon as one
// node has it in its active chain — the others' answers follow in the journal as they come. A
// node that lacks the block's parent (it forgot blocks in a crash) is handed the parents from
// the journal first. Nodes are reached only through injected functions, so this module knows
// nothing of RPC clients and tests can use fakes.
import { NodeUnreachableError, RpcError } from '../node/errors.js';
import { RPC_IN_WARMUP } from '../node/rpc-codes.js';
import type { AnswerRecord, FoundBlockJournal, FoundBlockRecord, JournalRecord, Outcome, OutcomeRecord } from './found-block-journal.js';

export type LogLevel = 'info' | 'warn' | 'error';
export type Logger = (level: LogLevel, msg: string, fields?: Readonly<Record<string, unknown>>) => void;

export interface RetryPolicy {
  /** Delay after the first failure; doubles per consecutive failure. Default 100. */
  readonly initialDelayMs?: number;
  /** Cap on one delay. Default 5000. */
  readonly maxDelayMs?: number;
  /** Cap on submitblock calls for one block and node; then 'unconfirmed'. Default Infinity. */
  readonly maxAttempts?: number;
  /**
   * Cap on failures that a retry is unlikely to fix soon (credentials refused, an RPC error
   * that says nothing about the block, anything unexpected). Default 3. The block stays pending.
   */
  readonly boundedAttempts?: number;
}

/** One node a block goes to. */
export interface SubmitTarget {
  /** How the journal and the log name it (its RPC URL). */
  readonly name: string;
  /**
   * Bitcoin Core's submitblock: null = accepted, else its reason string. `signal` is the
   * submission's (SubmitOptions): once it aborts the answer is no longer waited for, so a
   * transport that can cancel its request should.
   */
  readonly submitBlock: (hex: string, signal?: AbortSignal) => Promise<string | null>;
  /** Whether the block is in the node's active chain; 'unknown' when that cannot be told. */
  readonly blockInActiveChain: (hash: string) => Promise<boolean | 'unknown'>;
  /** Whether the node knows the block at all (replay asks before submitting again). */
  readonly isKnown?: (hash: string) => Promise<boolean>;
  /**
   * False while the node is known to be down: once another node has accepted the block, retries
   * to this one stop (its gate hands the block back when it returns). Default: always true.
   */
  readonly usable?: () => boolean;
  /**
   * Whether the node answering is still on the miner's chain: asked before a refusal is taken as
   * a verdict (another chain's node under the same URL refuses every block of ours).
   */
  readonly onMinersChain?: () => Promise<boolean>;
}

export interface BlockSubmitterDeps {
  readonly journal: Pick<FoundBlockJournal, 'appendFound' | 'append' | 'pending'> & Partial<Pick<FoundBlockJournal, 'defer'>>;
  /** The nodes every block goes to (a function: the set may change). */
  readonly targets?: readonly SubmitTarget[] | (() => readonly SubmitTarget[]);
  /** One node, as two functions (a shorthand for `targets` of one, named "node"). */
  readonly submitBlock?: SubmitTarget['submitBlock'];
  readonly blockInActiveChain?: SubmitTarget['blockInActiveChain'];
  /**
   * The node answered that it lacks the block's parent: hand it the block's ancestors from the
   * journal (block-restorer.ts); true when it was given some, so one more try is worth it.
   */
  readonly handBackParents?: (target: SubmitTarget, found: FoundBlockRecord) => Promise<boolean>;
  /** Each node's answer, as it comes (the recorder counts them per node). */
  readonly onAnswer?: (found: FoundBlockRecord, answer: NodeAnswer) => void;
  /**
   * A node failed to store the block on its side (submitblock's -25, a full disk): said once per
   * block and node; the block is kept and submitted again.
   */
  readonly onNodeFault?: (found: FoundBlockRecord, node: string, message: string) => void;
  readonly log: Logger;
  readonly retry?: RetryPolicy;
  /** Resolves after ms, or early when the signal aborts. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** [0, 1) source for backoff jitter. */
  readonly random?: () => number;
}

/** What one node said of a block. */
export interface NodeAnswer {
  readonly node: string;
  readonly outcome: Outcome;
  readonly reason?: string;
  /** submitblock calls made to it (0 when it knew the block already). */
  readonly attempts: number;
}

export interface SubmitOutcome {
  readonly hash: string;
  readonly outcome: Outcome;
  readonly reason?: string;
  /** submitblock calls made (0 when replay found the node already had the block), every node together. */
  readonly attempts: number;
  /**
   * Milliseconds from submit() being called to the first submitblock call being made, journal
   * fsync included: the solved-to-submitted latency the benchmark reports.
   */
  readonly submitMs: number;
  /** False when the journal could not take the found record (the block was submitted anyway). */
  readonly journaled: boolean;
  /** The answers in when the outcome settled (the first acceptance settles it). */
  readonly answers: readonly NodeAnswer[];
  /** Every node's answer, once the last one is in (nodes still retrying after the outcome included). */
  readonly allAnswered: Promise<readonly NodeAnswer[]>;
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
/**
 * submitblock throws it only for a validation state that is an error rather than invalid
 * (rpc/mining.cpp BIP22ValidationResult: state.IsError()): the node failed to store the block —
 * "AcceptBlock: Failed to find position to write new block to disk" when its disk is full — not
 * a verdict on the block (a verdict comes back as a reason string). Kept, retried, alarmed.
 */
const RPC_VERIFY_ERROR = -25;
/** submitblock's answer for a block whose parent the node does not have (BIP22 reject reason). */
export const MISSING_PARENT = 'prev-blk-not-found';

type Failure = 'transient' | 'bounded' | 'rejected' | 'node-fault';

/**
 * What the answers of every node make of a block. Accepted as soon as one node has it in its
 * active chain. Otherwise final only when every node gave a final answer (a node yet to answer
 * may still take it): duplicate (held off the active chain) before stale before rejected; else
 * inconclusive when a node holds it without placing it, unconfirmed when none answered.
 */
export function aggregateAnswers(answers: readonly NodeAnswer[], nodes: number): { outcome: Outcome; reason?: string } {
  const accepted = answers.find((a) => a.outcome === 'accepted');
  const others = answers.filter((a) => a.outcome !== 'accepted');
  const dissent = (list: readonly NodeAnswer[]) => list.map((a) => `${a.node} ${a.outcome}${a.reason !== undefined ? ` (${a.reason})` : ''}`).join('; ');
  if (accepted) {
    const refused = others.filter((a) => a.outcome === 'rejected' || a.outcome === 'stale');
    return refused.length > 0 ? { outcome: 'accepted', reason: `but ${dissent(refused)}` } : accepted.reason !== undefined ? { outcome: 'accepted', reason: accepted.reason } : { outcome: 'accepted' };
  }
  const pick = (outcome: Outcome) => answers.find((a) => a.outcome === outcome);
  const final = answers.length >= nodes && answers.every((a) => a.outcome === 'duplicate' || a.outcome === 'stale' || a.outcome === 'rejected');
  const chosen = final ? (pick('duplicate') ?? pick('stale') ?? pick('rejected')) : (pick('inconclusive') ?? pick('unconfirmed') ?? answers[0]);
  if (!chosen) return { outcome: 'unconfirmed', reason: 'no node answered' };
  const outcome = final ? chosen.outcome : chosen.outcome === 'inconclusive' ? 'inconclusive' : 'unconfirmed';
  if (nodes === 1) return chosen.reason !== undefined ? { outcome, reason: chosen.reason } : { outcome };
  return { outcome, reason: dissent(answers) };
}

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

  private targets(): readonly SubmitTarget[] {
    const t = this.deps.targets;
    if (t !== undefined) return typeof t === 'function' ? t() : t;
    if (this.deps.submitBlock === undefined || this.deps.blockInActiveChain === undefined) throw new TypeError('BlockSubmitter: expected targets, or submitBlock and blockInActiveChain');
    return [{ name: 'node', submitBlock: this.deps.submitBlock, blockInActiveChain: this.deps.blockInActiveChain }];
  }

  /** Journals the block (fsync), then submits it to every node; records each answer and the outcome. */
  submit(found: FoundBlockRecord, options: SubmitOptions = {}): Promise<SubmitOutcome> {
    return this.run(found, true, options.signal, undefined);
  }

  /**
   * Start-up: every pending journal record is either settled from what the nodes already know
   * (in the active chain → 'accepted', known elsewhere → 'duplicate') or submitted again,
   * without a second 'found' line. Returns one outcome per record handled, in journal order.
   * `isKnown` (one node) stands in for the targets' own.
   */
  async replay(isKnown?: (hash: string) => Promise<boolean>, options: ReplayOptions = {}): Promise<SubmitOutcome[]> {
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
      const outcome = await this.run(found, false, options.signal, isKnown ?? null);
      // Replay waits for every node: the next pending block may be this one's child.
      await outcome.allAnswered;
      results.push(outcome);
    }
    return results;
  }

  /**
   * `replaying`: not a new block — each node is first asked whether it knows it (null: through
   * the targets' own isKnown; a function: through that one, for a single node).
   */
  private async run(found: FoundBlockRecord, journalFirst: boolean, signal: AbortSignal | undefined, replaying: ((hash: string) => Promise<boolean>) | null | undefined): Promise<SubmitOutcome> {
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
    const targets = this.targets();
    const submitMs = performance.now() - started;
    const answers: NodeAnswer[] = [];
    let acceptedBy: string | undefined;
    let settled: ((r: SubmitOutcome) => void) | undefined;
    const outcome = new Promise<SubmitOutcome>((resolve) => (settled = resolve));
    // Single node: one journal write holds its answer and the outcome.
    const single = targets.length === 1;
    const settle = async (): Promise<void> => {
      const done = settled;
      if (!done) return;
      settled = undefined;
      const result = aggregateAnswers(answers, targets.length);
      const attempts = answers.reduce((a, b) => a + b.attempts, 0);
      const answerLines = single ? answers.map((a) => this.answerLine(found, a, replaying !== undefined)) : [];
      await this.record(found, result, attempts, submitMs, answerLines);
      done({ hash: found.hash, ...result, attempts, submitMs, journaled, answers: [...answers], allAnswered });
    };
    const perNode = targets.map(async (target) => {
      const answer = await this.submitTo(target, found, signal, replaying, () => acceptedBy !== undefined && acceptedBy !== target.name);
      answers.push(answer);
      if (answer.outcome === 'accepted') acceptedBy ??= target.name;
      this.deps.onAnswer?.(found, answer);
      if (!single) {
        await this.appendQuietly([this.answerLine(found, answer, replaying !== undefined)], found.hash);
        if (answer.outcome !== 'accepted' && acceptedBy !== undefined && acceptedBy !== target.name && (answer.outcome === 'rejected' || answer.outcome === 'stale')) {
          this.deps.log('warn', `block ${found.height}: ${target.name} ${answer.outcome} it (${answer.reason ?? 'no reason'}) though ${acceptedBy} accepted it`, { hash: found.hash, node: target.name });
        }
      }
      if (answer.outcome === 'accepted') await settle();
      return answer;
    });
    const allAnswered = Promise.all(perNode).then(async (list) => {
      await settle();
      return list;
    });
    allAnswered.catch(() => undefined);
    return outcome;
  }

  /** One node: submitblock until it answers (or the retries end); its answer classified. */
  private async submitTo(
    target: SubmitTarget,
    found: FoundBlockRecord,
    signal: AbortSignal | undefined,
    replaying: ((hash: string) => Promise<boolean>) | null | undefined,
    acceptedElsewhere: () => boolean,
  ): Promise<NodeAnswer> {
    if (replaying !== undefined) {
      const isKnown = replaying ?? target.isKnown;
      let known = false;
      try {
        known = isKnown !== undefined && (await isKnown(found.hash));
      } catch (err) {
        // Submitting again is safe: a block the node has comes back as "duplicate".
        this.deps.log('warn', 'replay: could not ask the node about a journaled block; submitting it again', {
          hash: found.hash,
          node: target.name,
          error: errorMessage(err),
        });
      }
      if (known) {
        const outcome = (await this.inActiveChain(target, found.hash)) === true ? 'accepted' : 'duplicate';
        return { node: target.name, outcome, reason: 'known to the node at replay', attempts: 0 };
      }
    }
    // A node known to be down while another can take the block: not tried now; its gate hands
    // the block back when it returns. (A single node is always tried: there is no other.)
    if (target.usable?.() === false && this.targets().some((t) => t !== target && t.usable?.() !== false)) {
      return { node: target.name, outcome: 'unconfirmed', reason: 'the node is down; handed back when it returns', attempts: 0 };
    }
    let attempts = 0;
    let consecutive = 0;
    let bounded = 0;
    let handedBack = false;
    let faultSaid = false;
    for (;;) {
      if (signal?.aborted) return { node: target.name, outcome: 'unconfirmed', reason: 'submission stopped before the node answered', attempts };
      attempts++;
      let answer: string | null;
      try {
        answer = await untilAborted(target.submitBlock(found.blockHex, signal), signal);
      } catch (err) {
        if (err === ABANDONED) {
          // A node that does not answer must not hold a stop: the block stays pending.
          return { node: target.name, outcome: 'unconfirmed', reason: 'the node had not answered when the submission was stopped', attempts };
        }
        const kind = classifyFailure(err);
        const message = errorMessage(err);
        if (kind === 'rejected') return { node: target.name, outcome: 'rejected', reason: message, attempts };
        if (kind === 'bounded') bounded++;
        if (kind === 'node-fault' && !faultSaid) {
          faultSaid = true;
          this.deps.log('error', `${target.name} failed to store block ${found.height} (${message}): its disk may be full; the block is kept in the journal and submitted again`, { hash: found.hash, node: target.name });
          this.deps.onNodeFault?.(found, target.name, message);
        }
        if (attempts >= this.maxAttempts || bounded >= this.boundedAttempts) return { node: target.name, outcome: 'unconfirmed', reason: message, attempts };
        // Another node has the block; this one is down: its gate hands the block back on its return.
        if (acceptedElsewhere() && target.usable?.() === false) return { node: target.name, outcome: 'unconfirmed', reason: `${message}; handed back when it returns`, attempts };
        consecutive++;
        const delayMs = this.backoff(consecutive);
        // A node known to be down while others take the block is said once, by its health; the
        // only node, or one that counts as up, is said at each retry.
        const quiet = target.usable?.() === false && this.targets().some((t) => t !== target && t.usable?.() !== false);
        if (!quiet) this.deps.log('warn', 'submitblock failed; retrying', { hash: found.hash, node: target.name, attempt: attempts, delayMs, error: message });
        await this.sleep(delayMs, signal);
        continue;
      }
      if (answer === MISSING_PARENT && !handedBack && this.deps.handBackParents !== undefined) {
        handedBack = true;
        // The node forgot (or never had) the parent; ours are in the journal: parents first.
        let given = false;
        try {
          given = await this.deps.handBackParents(target, found);
        } catch (err) {
          // A node known to be down says so itself; its gate hands the parents back on its return.
          if (target.usable?.() !== false) this.deps.log('warn', "could not hand the block's parents back to the node", { hash: found.hash, node: target.name, error: errorMessage(err) });
        }
        if (given) continue;
      }
      const verdict = await this.classifyAnswer(target, found.hash, answer);
      if ((verdict.outcome === 'rejected' || verdict.outcome === 'stale') && target.onMinersChain !== undefined && !(await target.onMinersChain().catch(() => true))) {
        // Not a verdict of our chain: the block waits for the right node (its gate hands it back).
        return { node: target.name, outcome: 'unconfirmed', reason: `${target.name} answers for another chain now (it said ${answer}); handed back when the miner's chain is back`, attempts };
      }
      return { node: target.name, ...verdict, attempts };
    }
  }

  /**
   * One try to give `found` to a node that does not have it (block-restorer.ts: a node that
   * forgot it): submitblock once, its answer classified and journaled. A failure to reach the
   * node is thrown: the caller tries again when the node is back.
   */
  async handTo(target: SubmitTarget, found: FoundBlockRecord): Promise<NodeAnswer> {
    const answer = await target.submitBlock(found.blockHex).catch((err: unknown) => {
      if (classifyFailure(err) === 'rejected') return { failed: errorMessage(err) };
      throw err;
    });
    const result: NodeAnswer =
      typeof answer === 'object' && answer !== null
        ? { node: target.name, outcome: 'rejected', reason: answer.failed, attempts: 1 }
        : { node: target.name, ...(await this.classifyAnswer(target, found.hash, answer)), attempts: 1 };
    if ((result.outcome === 'rejected' || result.outcome === 'stale') && target.onMinersChain !== undefined && !(await target.onMinersChain().catch(() => true))) {
      // Another chain's node under the node's URL: no verdict of ours; tried again when it is back.
      throw new Error(`${target.name} answers for another chain now`);
    }
    // Not worth an fsync each (a node catching up may be handed thousands): the block's fate is the
    // node's to tell, and the tracker journals it.
    const line = { ...this.answerLine(found, result, false), handedBack: true };
    if (this.deps.journal.defer !== undefined) this.deps.journal.defer(line);
    else await this.appendQuietly([line], found.hash);
    this.deps.onAnswer?.(found, result);
    return result;
  }

  /** Maps submitblock's answer to an outcome. */
  private async classifyAnswer(target: SubmitTarget, hash: string, answer: string | null): Promise<{ outcome: Outcome; reason?: string }> {
    if (answer === null) {
      const active = await this.inActiveChain(target, hash);
      if (active === true) return { outcome: 'accepted' };
      return {
        outcome: 'inconclusive',
        reason: active === false ? 'accepted by submitblock but not in the active chain' : 'active chain could not be checked',
      };
    }
    if (answer === 'duplicate') {
      // The hash commits to our own coinbase, so the node can only have this block from us, e.g.
      // from an earlier attempt whose answer was lost in transit. In the active chain it counts.
      if ((await this.inActiveChain(target, hash)) === true) return { outcome: 'accepted', reason: 'duplicate' };
      return { outcome: 'duplicate', reason: answer };
    }
    if (answer === 'inconclusive' || answer === 'duplicate-inconclusive') return { outcome: 'inconclusive', reason: answer };
    // Not a verdict on the block: the node lacks its parent (and we had none to give it). It
    // stays pending; the node may get the parent from its peers, and the block is tried again.
    if (answer === MISSING_PARENT) return { outcome: 'inconclusive', reason: `${answer}: the node lacks its parent` };
    return { outcome: 'rejected', reason: answer };
  }

  private async inActiveChain(target: SubmitTarget, hash: string): Promise<boolean | 'unknown'> {
    try {
      return await target.blockInActiveChain(hash);
    } catch (err) {
      this.deps.log('warn', 'could not check whether the block is in the active chain', { hash, node: target.name, error: errorMessage(err) });
      return 'unknown';
    }
  }

  private answerLine(found: FoundBlockRecord, a: NodeAnswer, replayed: boolean): AnswerRecord {
    return {
      type: 'answer',
      time: new Date().toISOString(),
      hash: found.hash,
      node: a.node,
      outcome: a.outcome,
      ...(a.reason !== undefined && { reason: a.reason }),
      ...(replayed && { replayed: true }),
    };
  }

  private async appendQuietly(records: JournalRecord[], hash: string): Promise<void> {
    try {
      await this.deps.journal.append(...records);
    } catch (err) {
      // Not fatal: without the line the block merely stays pending and replay asks the node again.
      this.deps.log('error', 'block outcome could not be journaled', { hash, error: errorMessage(err) });
    }
  }

  private async record(found: FoundBlockRecord, result: { outcome: Outcome; reason?: string }, attempts: number, submitMs: number, answers: AnswerRecord[]): Promise<void> {
    const line: OutcomeRecord = {
      type: 'outcome',
      time: new Date().toISOString(),
      hash: found.hash,
      outcome: result.outcome,
      ...(result.reason !== undefined ? { reason: result.reason } : {}),
    };
    await this.appendQuietly([...answers, line], found.hash);
    const level = result.outcome === 'accepted' ? 'info' : result.outcome === 'duplicate' || result.outcome === 'inconclusive' ? 'warn' : 'error';
    const fields = { hash: found.hash, height: found.height, outcome: result.outcome, reason: result.reason, attempts, submitMs };
    this.deps.log(level, `block ${found.height} ${result.outcome}${result.reason !== undefined ? ` (${result.reason})` : ''}`, fields);
  }

  /** Exponential backoff with jitter in [half, full] of the step, so retries do not synchronize. */
  private backoff(failures: number): number {
    const step = Math.min(this.maxDelayMs, this.initialDelayMs * 2 ** (failures - 1));
    return Math.round(step / 2 + (step / 2) * this.random());
  }
}

/**
 * transient: the node was not reached or is starting up; retry until maxAttempts.
 * node-fault: the node failed on its side to store the block (a full disk); retried like transient.
 * rejected: the node judged the block itself (it could not be decoded).
 * bounded: anything else; a few retries, then the block waits for replay.
 */
function classifyFailure(err: unknown): Failure {
  if (err instanceof NodeUnreachableError) return 'transient';
  if (err instanceof RpcError) {
    if (err.code === RPC_IN_WARMUP) return 'transient';
    if (err.code === RPC_VERIFY_ERROR) return 'node-fault';
    if (err.code === RPC_DESERIALIZATION_ERROR) return 'rejected';
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
