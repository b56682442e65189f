// Requests to the status port are rate-limited per client address: a token bucket each, refilled
// at a steady rate up to a burst. The clock is injected, so tests move time by hand.

export interface TokenBucketOptions {
  /** The burst: requests allowed at once from a full bucket. */
  readonly capacity: number;
  readonly refillPerSecond: number;
  /** Milliseconds; Date.now by default. */
  readonly now?: () => number;
  /** Addresses remembered at most; full buckets are forgotten first (a full bucket is the default anyway). */
  readonly maxKeys?: number;
}

export interface Verdict {
  readonly allowed: boolean;
  /** When not allowed: seconds until `cost` tokens are back (whole seconds, for Retry-After). */
  readonly retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBucketLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(private readonly options: TokenBucketOptions) {
    if (!(options.capacity >= 1) || !(options.refillPerSecond > 0)) {
      throw new RangeError(`rate limit: expected capacity >= 1 and refillPerSecond > 0, got ${options.capacity} and ${options.refillPerSecond}`);
    }
    this.now = options.now ?? Date.now;
    this.maxKeys = options.maxKeys ?? 10_000;
  }

  /** Takes `cost` tokens from `key`'s bucket when it holds them. */
  take(key: string, cost = 1): Verdict {
    const now = this.now();
    const bucket = this.refilled(key, now);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    const missing = Math.min(cost, this.options.capacity) - bucket.tokens;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(missing / this.options.refillPerSecond)) };
  }

  /** Takes up to `cost` tokens without refusing: for a failure that should cost more than the request did. */
  charge(key: string, cost: number): void {
    const bucket = this.refilled(key, this.now());
    bucket.tokens = Math.max(0, bucket.tokens - cost);
  }

  /** Addresses remembered now. */
  get size(): number {
    return this.buckets.size;
  }

  private refilled(key: string, now: number): Bucket {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxKeys) this.forget(now);
      bucket = { tokens: this.options.capacity, at: now };
      this.buckets.set(key, bucket);
      return bucket;
    }
    const elapsed = Math.max(0, now - bucket.at) / 1000;
    bucket.tokens = Math.min(this.options.capacity, bucket.tokens + elapsed * this.options.refillPerSecond);
    bucket.at = now;
    // Kept in order of last use, so the one forgotten first below is the least recently seen.
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    return bucket;
  }

  /** Room for a new address: buckets that have refilled are dropped, else the least recently seen. */
  private forget(now: number): void {
    const fullAfterMs = (this.options.capacity / this.options.refillPerSecond) * 1000;
    for (const [key, b] of this.buckets) if (now - b.at >= fullAfterMs) this.buckets.delete(key);
    if (this.buckets.size >= this.maxKeys) {
      const oldest = this.buckets.keys().next();
      if (!oldest.done) this.buckets.delete(oldest.value);
    }
  }
}
