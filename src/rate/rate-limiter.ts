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
  /**
   * Optional: a limiter that takes permits ahead of need (the fleet's leases) sizes what it takes
   * by the dispatcher's backlog and tells it when permits arrive other than with the passing of
   * time. One whose permits only come with time has no use for either.
   */
  attach?(dispatcher: LimiterClient): void;
}

/** What a limiter may ask of, and tell, the dispatcher it serves. */
export interface LimiterClient {
  /** Reports waiting for a permit now. */
  backlog(): number;
  /**
   * Permits arrived early (a fleet lease landed, or the limiter fell back to its local bucket):
   * a dispatcher waiting on `msUntilAvailable` asks again now instead of at its next look.
   */
  permitsArrived(): void;
}
