// The GPU engine's timing model, kept apart from WebGPU so that it can be tested with a fake
// clock and a simulated GPU (test/engines/gpu-pacing.test.ts). It decides
//  - how many nonces a dispatch gets: calibrated at start-up to take about `dispatchMs`, then
//    kept there as the speed estimate moves (unless the caller fixed the size);
//  - when to queue the next dispatch: when the GPU has SUBMIT_LEAD of one dispatch left, so it
//    never runs dry between two, while a new tip finds at most about 1 + SUBMIT_LEAD
//    dispatches of stale work queued ahead of it (WebGPU cannot cancel queued work);
//  - when to ask for a dispatch's results: the Node binding busy-polls Dawn while a mapAsync
//    is pending, so the host sleeps on a timer until the dispatch should be done (the running
//    estimate of the time per nonce) and asks only then. It wakes a little late by default
//    (the next dispatch is already queued, so the GPU does not idle) and a little early every
//    PROBE_EVERY-th dispatch, to notice a GPU that got faster;
//  - what a mapping teaches: one that had to wait shows the GPU behind the estimate (the
//    queued dispatches move later, the estimate moves towards the measurement); one that
//    resolved at once only bounds the dispatch's time from above, which a probe's early wake
//    turns into a lower estimate.
// Times are milliseconds on the injected clock (performance.now() by default).

/** Largest dispatch: keeps invocation * NONCES_PER_INVOCATION and first + offset inside u32. */
export const MAX_DISPATCH_NONCES = 2 ** 31;
/** Wake this fraction of a dispatch's expected time after its expected end (default) ... */
export const LATE_WAKE = 0.05;
/** ... or before it (probes), so that a GPU faster than the estimate is noticed. */
export const EARLY_WAKE = -0.08;
export const PROBE_EVERY = 8;
/** Queue the next dispatch when the GPU has this fraction of a dispatch left. */
export const SUBMIT_LEAD = 0.3;
/** A mapping that took longer than this had to wait for the GPU (the binding polled). */
export const POLLED_MS = 1;
/** Weight of a new measurement in the running estimate of the time per nonce. */
const LEARN_RATE = 0.3;
/** The calibration grows a dispatch until it takes at least min(dispatchMs / 2, this). */
const CALIBRATION_MIN_MS = 10;
/** The estimate before the calibration has measured anything. */
const INITIAL_MS_PER_NONCE = 1e-4;

/** Nonces [first, first + count) of one header. */
export interface NonceRange {
  readonly first: number;
  readonly count: number;
}

/** What the pacer planned for a submitted dispatch. */
export interface DispatchTiming {
  readonly count: number;
  readonly submittedAt: number;
  readonly expectedMs: number;
  /** Moved later when a mapping shows the GPU behind the estimate. */
  expectedDone: number;
  /** Wake before the expected end (measures a faster GPU) rather than after it. */
  readonly probe: boolean;
}

/** The next thing the scan loop does: sleep until `at`, then queue a dispatch or collect the oldest. */
export interface Wake {
  readonly at: number;
  readonly then: 'submit' | 'collect';
}

export interface PacerOptions {
  /** Nonces of one workgroup (workgroup size * nonces per invocation): dispatch sizes are multiples of it. */
  readonly granule: number;
  /** Dispatches queued at once; with one, every wake is early (a late one would idle the GPU). */
  readonly inFlight: number;
  readonly now?: () => number;
}

export class DispatchPacer {
  readonly now: () => number;
  private readonly granule: number;
  private readonly inFlight: number;
  private dispatchNoncesValue: number;
  private dispatchMsValue = 40;
  /** A size the caller fixed: never resized. */
  private fixed = false;
  private msPerNonceValue = INITIAL_MS_PER_NONCE;
  /** When the GPU should be through everything submitted so far (estimate). */
  private gpuFreeAt = 0;
  /** When the last collected dispatch was seen done. */
  private lastDoneAt = 0;
  /** The last probe found the GPU faster than estimated: probe the next dispatch too. */
  private probeNext = false;
  /** Dispatches planned so far: every PROBE_EVERY-th is a probe. */
  private planned = 0;

  constructor(options: PacerOptions) {
    this.granule = options.granule;
    this.inFlight = options.inFlight;
    this.now = options.now ?? (() => performance.now());
    this.dispatchNoncesValue = options.granule;
  }

  /** Nonces per fresh dispatch. */
  get dispatchNonces(): number {
    return this.dispatchNoncesValue;
  }

  /** The running estimate of the GPU's time per nonce. */
  get msPerNonce(): number {
    return this.msPerNonceValue;
  }

  get dispatchMs(): number {
    return this.dispatchMsValue;
  }

  /**
   * Sizes dispatches to take about `dispatchMs`: `measure(count)` runs one dispatch of `count`
   * nonces to completion and resolves to its duration. The size grows (x4) until one dispatch
   * is long enough to time, then scales to the wanted duration. With `fixed`, one measurement
   * of that size seeds the estimate and the size stays.
   */
  async calibrate(measure: (count: number) => Promise<number>, dispatchMs: number, fixed?: number): Promise<void> {
    let count = fixed ?? this.granule * 16;
    let ms = await measure(count);
    while (fixed === undefined && ms < Math.min(dispatchMs / 2, CALIBRATION_MIN_MS) && count < MAX_DISPATCH_NONCES / 4) {
      count *= 4;
      ms = await measure(count);
    }
    this.msPerNonceValue = ms / count;
    this.dispatchMsValue = dispatchMs;
    this.fixed = fixed !== undefined;
    this.dispatchNoncesValue = fixed ?? count;
    this.resize();
  }

  /**
   * The size of the next fresh dispatch, kept at about dispatchMs as the estimate moves
   * (another process competing for a software GPU's cores, clocks): each dispatch costs the
   * host a fixed amount (about 1-2 ms on lavapipe), so dispatches much shorter than planned
   * waste it.
   */
  nextDispatchSize(): number {
    this.resize();
    return this.dispatchNoncesValue;
  }

  private resize(): void {
    if (this.fixed) return;
    const wanted = Math.round(this.dispatchMsValue / this.msPerNonceValue / this.granule) * this.granule;
    this.dispatchNoncesValue = Math.min(MAX_DISPATCH_NONCES, Math.max(this.granule, wanted));
  }

  /** Records a dispatch of `count` nonces queued now and plans when it should be done. */
  planDispatch(count: number): DispatchTiming {
    this.planned++;
    const now = this.now();
    const expectedMs = count * this.msPerNonceValue;
    this.gpuFreeAt = Math.max(now, this.gpuFreeAt) + expectedMs;
    const probe = this.inFlight === 1 || this.probeNext || this.planned % PROBE_EVERY === 0;
    this.probeNext = false;
    return { count, submittedAt: now, expectedMs, expectedDone: this.gpuFreeAt, probe };
  }

  /** When the next dispatch should be queued: SUBMIT_LEAD of one dispatch before the GPU runs dry. */
  submitDeadline(): number {
    return this.gpuFreeAt - SUBMIT_LEAD * this.dispatchNoncesValue * this.msPerNonceValue;
  }

  /** Queue another dispatch now? Always when nothing is queued, else once the deadline has come. */
  shouldSubmit(queued: number): boolean {
    return queued === 0 || this.now() >= this.submitDeadline();
  }

  /** When to ask for `dispatch`'s results. */
  collectAt(dispatch: DispatchTiming): number {
    return dispatch.expectedDone + (dispatch.probe ? EARLY_WAKE : LATE_WAKE) * dispatch.expectedMs;
  }

  /** What the loop waits for next, with `head` the oldest queued dispatch; `canSubmit`: a free slot and nonces left. */
  nextWake(head: DispatchTiming, canSubmit: boolean): Wake {
    const collectAt = this.collectAt(head);
    const submitAt = canSubmit ? this.submitDeadline() : Infinity;
    return submitAt < collectAt ? { at: submitAt, then: 'submit' } : { at: collectAt, then: 'collect' };
  }

  /**
   * Learns from `dispatch`'s mapping, asked for at `askedAt` and resolved at `doneAt`; `queued`
   * holds the dispatches still on the GPU, whose expected ends move with the GPU's delay.
   */
  collected(dispatch: DispatchTiming, askedAt: number, doneAt: number, queued: readonly DispatchTiming[]): void {
    const polled = doneAt - askedAt > POLLED_MS;
    if (polled) {
      // The mapping had to wait, so the GPU is behind the estimated timeline: move the
      // dispatches still queued later by as much.
      const behind = doneAt - dispatch.expectedDone;
      if (behind > 0) {
        for (const other of queued) if (other !== dispatch) other.expectedDone += behind;
        this.gpuFreeAt += behind;
      }
    }
    // Learn from full-size dispatches only: a small one (a rescan piece, a short range) is
    // mostly fixed cost. A mapping that resolved at once may only lower the estimate; one that
    // had to wait measured it.
    if (dispatch.count >= this.dispatchNoncesValue / 2) {
      const measured = (doneAt - Math.max(dispatch.submittedAt, this.lastDoneAt)) / dispatch.count;
      if (polled && measured > 0) {
        this.msPerNonceValue = (1 - LEARN_RATE) * this.msPerNonceValue + LEARN_RATE * measured;
      } else if (dispatch.probe && measured > 0 && measured < this.msPerNonceValue) {
        // Done before the early wake: faster than thought. Take the bound and probe again
        // next time, until a probe has to wait (and so measures).
        this.msPerNonceValue = measured;
        this.probeNext = true;
      }
    }
    this.lastDoneAt = doneAt;
  }

  /** Nothing is on the GPU any more (a dispatch waited for directly, a new device). */
  idle(): void {
    this.gpuFreeAt = 0;
  }

  /** The GPU was seen done with everything at `at` (after a drain or a direct wait). */
  settled(at: number = this.now()): void {
    this.lastDoneAt = at;
  }
}

/**
 * An overflowed dispatch (`qualifying` candidates for a list of `capacity`) cut into pieces
 * expected to fill half the list each, so that scanning them again loses no nonce.
 */
export function overflowPieces(range: NonceRange, qualifying: number, capacity: number): NonceRange[] {
  const pieces = Math.ceil(qualifying / (capacity / 2));
  const size = Math.ceil(range.count / pieces);
  const parts: NonceRange[] = [];
  for (let first = range.first; first < range.first + range.count; first += size) {
    parts.push({ first, count: Math.min(size, range.first + range.count - first) });
  }
  return parts;
}
