/**
 * The port the dispatcher asks before every SWF call. Synchronous on purpose: the dispatcher
 * asks on its hot path. A fleet-wide limiter (Redis) fits behind it by leasing tokens from the
 * shared store in the background and handing them out locally.
 */
export interface RateLimiter {
  /** Takes up to `wanted` send permits now; returns how many were granted (0..wanted). */
  tryAcquire(wanted: number): number;
  /** Milliseconds until a permit is likely to be available; 0 when one is. */
  msUntilAvailable(): number;
  /**
   * SWF answered: `throttled` when with ThrottlingException (slow down), false for any other
   * answer. Transport errors (no answer) are not reported: they say nothing about the quota.
   */
  onAnswer(throttled: boolean): void;
  /** The current send rate, for metrics. */
  currentRatePerSecond(): number;
}
