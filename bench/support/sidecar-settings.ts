/** Limiter and queue settings the measurements share. */

/** SWF's own refill for RespondActivityTaskFailed (SWF-FACTS.md) and the default burst. */
export const SWF_RATE_PER_SECOND = 200;
export const DEFAULT_BURST = 200;

/** A queue that never refuses during a measurement (the queue bound is not what is measured). */
export const UNBOUNDED_QUEUE = {
  SWF_SIDECAR_MAX_QUEUE_ITEMS: String(5_000_000),
  SWF_SIDECAR_MAX_QUEUE_BYTES: String(16 * 2 ** 30),
} as const;

/** The limiter at SWF's quota: 200/s with the default burst. */
export const LIMITER_AT_QUOTA = {
  SWF_SIDECAR_RATE_PER_SECOND: String(SWF_RATE_PER_SECOND),
  SWF_SIDECAR_BURST: String(DEFAULT_BURST),
} as const;
