/**
 * A token bucket as pure data: no timers, time passed in. Holds at most `capacity` tokens and
 * refills continuously at `ratePerSecond`. Fractional tokens accumulate, so a rate of 0.5/s
 * grants one token every 2 s.
 */
export class TokenBucket {
  private tokens: number;
  private lastRefillMs: number;

  constructor(
    private ratePerSecond: number,
    private readonly capacity: number,
    nowMs: number,
  ) {
    this.tokens = capacity;
    this.lastRefillMs = nowMs;
  }

  /** Takes up to `wanted` whole tokens; returns how many it took (0 when empty). */
  tryTake(wanted: number, nowMs: number): number {
    this.refill(nowMs);
    const granted = Math.min(wanted, Math.floor(this.tokens));
    if (granted > 0) this.tokens -= granted;
    return granted;
  }

  /** Milliseconds until one whole token is available (0 when one is). */
  msUntilToken(nowMs: number): number {
    this.refill(nowMs);
    if (this.tokens >= 1) return 0;
    if (this.ratePerSecond <= 0) return Number.POSITIVE_INFINITY;
    return Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000);
  }

  /** Changes the refill rate from now on; tokens already earned are kept. */
  setRate(ratePerSecond: number, nowMs: number): void {
    this.refill(nowMs);
    this.ratePerSecond = ratePerSecond;
  }

  /** Empties the bucket: after a throttle, the burst SWF just refused is not spent again. */
  drain(nowMs: number): void {
    this.refill(nowMs);
    this.tokens = Math.min(this.tokens, 0);
  }

  private refill(nowMs: number): void {
    const elapsedMs = nowMs - this.lastRefillMs;
    if (elapsedMs > 0) {
      this.tokens = Math.min(this.capacity, this.tokens + (elapsedMs / 1000) * this.ratePerSecond);
      this.lastRefillMs = nowMs;
    }
  }
}
