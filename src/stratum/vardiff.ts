/**
 * Variable difficulty per connection: aim at one share per `targetSeconds` (default 10 s) from
 * the difficulty the connection's accepted shares were worth, in powers of two (fractions too:
 * a CPU miner needs difficulty < 1), never above the network difficulty (on regtest every share
 * is then a block) and never below the floor. A dead band (between half and twice the aim)
 * keeps a steady miner's difficulty still; a connection that sends nothing is halved after
 * three aims' worth of silence. The clock is injected; the caller sends the change with the
 * next job (docs/stratum.md).
 * @module
 */

export interface VardiffOptions {
  /** Seconds per share aimed at. */
  readonly targetSeconds: number;
  /** The lowest difficulty handed out (public-pool's floor: 0.00001). */
  readonly minDifficulty: number;
  /** The network difficulty now: the ceiling. */
  readonly maxDifficulty: () => number;
}

/** Shares that are enough to judge the rate (fewer: wait for the time window). */
const ENOUGH_SHARES = 8;

/** The power of two nearest to `x` (in log scale). */
export function nearestPowerOfTwo(x: number): number {
  return 2 ** Math.round(Math.log2(x));
}

export class Vardiff {
  private level: number;
  private windowStart: number;
  /** Sum of the difficulties of the shares accepted in this window. */
  private credited = 0;
  private shares = 0;

  constructor(
    start: number,
    private readonly options: VardiffOptions,
    now: number,
  ) {
    this.level = this.clamp(start);
    this.windowStart = now;
  }

  get difficulty(): number {
    return this.level;
  }

  /** Sets the difficulty (a miner's suggestion, or the start), clamped; restarts the window. */
  set(difficulty: number, now: number): number {
    this.level = this.clamp(difficulty);
    this.restart(now);
    return this.level;
  }

  /** The difficulty to send now: the current one, brought under a ceiling that has moved. */
  difficultyNow(now: number): number {
    const clamped = this.clamp(this.level);
    if (clamped !== this.level) this.change(clamped, now);
    return this.level;
  }

  /** An accepted share worth `difficulty`. Returns the new difficulty when it should change. */
  onShare(difficulty: number, now: number): number | undefined {
    this.credited += difficulty;
    this.shares++;
    const elapsed = (now - this.windowStart) / 1000;
    if (this.shares < ENOUGH_SHARES && elapsed < this.options.targetSeconds * 6) return undefined;
    return this.retarget(elapsed, now);
  }

  /** Called periodically: a silent connection gets an easier difficulty; the ceiling may have moved. */
  onTick(now: number): number | undefined {
    const elapsed = (now - this.windowStart) / 1000;
    const ceiling = this.clamp(this.level);
    if (ceiling !== this.level) return this.change(ceiling, now);
    if (this.shares === 0 && elapsed >= this.options.targetSeconds * 3) return this.change(this.clamp(this.level / 2), now);
    if (elapsed >= this.options.targetSeconds * 6 && this.shares > 0) return this.retarget(elapsed, now);
    return undefined;
  }

  private retarget(elapsedSeconds: number, now: number): number | undefined {
    // The difficulty that would have given one share per targetSeconds over this window.
    const aim = (this.credited * this.options.targetSeconds) / Math.max(elapsedSeconds, 0.001);
    if (aim < this.level * 2 && aim > this.level / 2) {
      this.restart(now);
      return undefined;
    }
    return this.change(this.clamp(nearestPowerOfTwo(aim)), now);
  }

  private change(next: number, now: number): number | undefined {
    this.restart(now);
    if (next === this.level) return undefined;
    this.level = next;
    return next;
  }

  private restart(now: number): void {
    this.windowStart = now;
    this.credited = 0;
    this.shares = 0;
  }

  private clamp(d: number): number {
    const ceiling = this.options.maxDifficulty();
    const floor = Math.min(this.options.minDifficulty, ceiling);
    return Math.min(Math.max(d, floor), ceiling);
  }
}
