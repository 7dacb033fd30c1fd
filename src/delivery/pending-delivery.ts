import type { SidecarError } from '../errors.js';
import type { DeliveryMode, FailureReport } from './failure-report.js';
import type { RetryBudget } from './retry-policy.js';
import type { Slotted } from '../slot-list.js';

/** How a delivery ended: SWF recorded it, or a typed error for every caller that waits on it. */
export type DeliveryResult =
  | { readonly ok: true; readonly attempts: number }
  | { readonly ok: false; readonly attempts: number; readonly error: SidecarError };

/**
 * One accepted report on its way to SWF, shared by every caller that submitted its token.
 * `settled` never rejects, so nobody's report can raise an unhandled rejection.
 */
export class PendingDelivery implements Slotted {
  attempts = 0;
  /** Its place among the dispatcher's calls in flight; -1 while no call is out. */
  slot = -1;
  /** Clock time of the first SWF call, for the retry budget's elapsed time. */
  firstAttemptAtMs: number | undefined;
  /** Clock time it last became ready to send (accepted, or a retry came due). */
  readyAtMs: number;
  /**
   * An earlier attempt may have reached SWF without its answer reaching us (a timeout, a reset,
   * a 5xx, or a crash before the journal marked it), so UnknownResourceFault now means delivered.
   */
  outcomeUnknown = false;
  /** Journal record id when the report is durable; see src/journal. */
  journalId: number | undefined;
  /** The journal append in progress or done, shared by every QUEUED caller of this token. */
  durable: Promise<void> | undefined;
  private settledPromise: Promise<DeliveryResult> | undefined;
  private resolve: ((result: DeliveryResult) => void) | undefined;
  private result: DeliveryResult | undefined;

  constructor(
    readonly report: FailureReport,
    /** Approximate memory held, counted against the queue's byte bound. */
    readonly bytes: number,
    public mode: DeliveryMode,
    public budget: RetryBudget,
    nowMs: number,
  ) {
    this.readyAtMs = nowMs;
  }

  /**
   * Resolves with the result. Made on first use: a QUEUED report nobody waits on never pays for
   * a promise and its resolver (about 170 bytes each, times every waiting report).
   */
  get settled(): Promise<DeliveryResult> {
    if (this.settledPromise === undefined) {
      this.settledPromise =
        this.result === undefined ? new Promise((resolve) => (this.resolve = resolve)) : Promise.resolve(this.result);
    }
    return this.settledPromise;
  }

  get isSettled(): boolean {
    return this.result !== undefined;
  }

  /** Settles once; later calls are ignored (a late SWF answer after a forced shutdown). */
  settle(result: DeliveryResult): boolean {
    if (this.result !== undefined) return false;
    this.result = result;
    this.resolve?.(result);
    return true;
  }
}
