import type { Clock } from '../clock.js';
import { AdaptiveRate } from './adaptive-rate.js';
import type { RateLimiter } from './rate-limiter.js';
import { TokenBucket } from './token-bucket.js';

/** One process's limiter: a token bucket whose refill rate follows SWF's throttling (adaptive-rate.ts). */
export class LocalRateLimiter implements RateLimiter {
  private readonly bucket: TokenBucket;
  private readonly adaptive: AdaptiveRate;
  private appliedRate: number;

  constructor(
    options: { ratePerSecond: number; burst: number },
    private readonly clock: Clock,
  ) {
    this.bucket = new TokenBucket(options.ratePerSecond, options.burst, clock.now());
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
    if (closed !== undefined && closed.throttledShare >= 0.5) this.bucket.drain(now);
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
