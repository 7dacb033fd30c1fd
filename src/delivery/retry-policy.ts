import type { RandomSource } from '../clock.js';

/** Bounds on retrying one report; the sidecar is the only retrier (the SDK's are off). */
export interface RetryBudget {
  /** SWF calls at most, the first included. */
  readonly maxAttempts: number;
  /** No retry is scheduled past this long after the first attempt. */
  readonly maxElapsedMs: number;
}

export interface BackoffOptions {
  /** First retry waits up to this long; each further one doubles it. */
  readonly baseDelayMs: number;
  /** The exponential growth stops here. */
  readonly maxDelayMs: number;
}

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff and
 * Jitter"): a uniformly random wait in [0, min(max, base * 2^(retry-1))). Full jitter spreads
 * the retries of a throttled burst instead of sending them back together.
 */
export function fullJitterDelayMs(retryNumber: number, options: BackoffOptions, random: RandomSource): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, retryNumber - 1));
  return Math.floor(random() * ceiling);
}

export type RetryDecision = { readonly retry: true; readonly delayMs: number } | { readonly retry: false };

/**
 * Decides whether a report that just failed retryably gets another attempt, and when.
 * `attemptsMade` counts the SWF calls so far; `elapsedMs` is the time since the first.
 */
export function decideRetry(
  attemptsMade: number,
  elapsedMs: number,
  budget: RetryBudget,
  backoff: BackoffOptions,
  random: RandomSource,
): RetryDecision {
  if (attemptsMade >= budget.maxAttempts) return { retry: false };
  const delayMs = fullJitterDelayMs(attemptsMade, backoff, random);
  if (elapsedMs + delayMs > budget.maxElapsedMs) return { retry: false };
  return { retry: true, delayMs };
}
