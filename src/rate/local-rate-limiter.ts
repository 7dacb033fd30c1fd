import type { Clock } from '../clock.js';
import { AdaptiveRate } from './adaptive-rate.js';
import type { RateLimiter } from './rate-limiter.js';
import { TokenBucket } from './token-bucket.js';

/**
 * Calls reach SWF a little later than the limiter grants them (a new connection, a busy event
 * loop: up to about 70 ms measured at start-up, 1 ms after). SWF's bucket counts arrivals, so a
 * call granted late in one second can land in the next one's count. The bucket therefore holds
 * the burst less this much of the rate, so that SWF never sees more than rate + burst in any
 * second. It never takes more than half the burst.
 */
export const ARRIVAL_JITTER_MARGIN_MS = 100;

/** A window this throttled means SWF's bucket is empty: ours is emptied too. */
const MOSTLY_THROTTLED_SHARE = 0.8;

/** One process's limiter: a token bucket whose refill rate follows SWF's throttling (adaptive-rate.ts). */
export class LocalRateLimiter implements RateLimiter {
  private readonly bucket: TokenBucket;
  private readonly adaptive: AdaptiveRate;
  private appliedRate: number;

  constructor(
    options: { ratePerSecond: number; burst: number },
    private readonly clock: Clock,
  ) {
    const marginTokens = Math.min(
      Math.floor(options.burst / 2),
      Math.ceil((options.ratePerSecond * ARRIVAL_JITTER_MARGIN_MS) / 1000),
    );
    this.bucket = new TokenBucket(options.ratePerSecond, options.burst - marginTokens, clock.now());
    this.adaptive = new AdaptiveRate({ maxRatePerSecond: options.ratePerSecond });
    this.appliedRate = options.ratePerSecond;
  }

  tryAcquire(wanted: number): number {
    const now = this.syncRate();
    return this.bucket.tryTake(wanted, now);
  }

  msUntilAvailable(): number {
    const now = this.syncRate();
    return this.bucket.msUntilToken(now);
  }

  onAnswer(throttled: boolean): void {
    const now = this.clock.now();
    const closed = this.adaptive.onAnswer(throttled, now);
    // Mostly throttled: SWF's bucket is empty, so the burst ours still holds would be refused too.
    if (closed !== undefined && closed.throttledShare >= MOSTLY_THROTTLED_SHARE) this.bucket.drain(now);
    this.syncRate();
  }

  currentRatePerSecond(): number {
    this.syncRate();
    return this.appliedRate;
  }

  private syncRate(): number {
    const now = this.clock.now();
    const rate = this.adaptive.rateAt(now);
    if (rate !== this.appliedRate) {
      this.bucket.setRate(rate, now);
      this.appliedRate = rate;
    }
    return now;
  }
}
