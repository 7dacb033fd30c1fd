import type { FailureReport } from '../../src/delivery/failure-report.js';
import type { SendResult, SwfPort } from '../../src/swf/swf-port.js';

/** A report's three fields as a plain object (reports may be CompactReport instances). */
export function plainReport(report: FailureReport): FailureReport {
  return { taskToken: report.taskToken, reason: report.reason, details: report.details };
}

/** One call the sidecar made, waiting for the test to answer it. */
export interface ScriptedCall {
  readonly report: FailureReport;
  readonly signal: AbortSignal;
  answered: boolean;
  answer(result: SendResult): void;
}

export const DELIVERED: SendResult = { kind: 'delivered', requestId: 'req-ok' };
export const THROTTLED: SendResult = {
  kind: 'retryable',
  reason: 'throttled',
  outcomeUnknown: false,
  message: 'ThrottlingException (HTTP 400): Rate exceeded',
  requestId: 'req-throttled',
};
export const TRANSIENT: SendResult = {
  kind: 'retryable',
  reason: 'transient',
  outcomeUnknown: true,
  message: 'InternalFailure (HTTP 500): boom',
  requestId: 'req-500',
};
export const REFUSED: SendResult = {
  kind: 'retryable',
  reason: 'transient',
  outcomeUnknown: false,
  message: 'Error: connect ECONNREFUSED',
};
export const rejected = (
  code: 'not-found' | 'permission-denied' | 'invalid-argument' | 'unknown',
  errorName: string,
): SendResult => ({
  kind: 'rejected',
  code,
  errorName,
  message: `${errorName} (HTTP 400): SWF says no`,
  requestId: `req-${errorName}`,
});

/**
 * An in-memory SWF port where the test decides when and how each call is answered: either by a
 * `responder` answering at once, or by hand through `calls[i].answer(...)`.
 */
export class ScriptedSwf implements SwfPort {
  readonly calls: ScriptedCall[] = [];

  constructor(public responder?: (report: FailureReport, callIndex: number) => SendResult | undefined) {}

  send(report: FailureReport, signal: AbortSignal): Promise<SendResult> {
    return new Promise((resolve) => {
      const call: ScriptedCall = {
        report,
        signal,
        answered: false,
        answer(result) {
          if (call.answered) return;
          call.answered = true;
          resolve(result);
        },
      };
      signal.addEventListener('abort', () =>
        call.answer({ kind: 'retryable', reason: 'transient', outcomeUnknown: true, message: 'AbortError: aborted' }),
      );
      const index = this.calls.push(call) - 1;
      const immediate = this.responder?.(report, index);
      if (immediate !== undefined) call.answer(immediate);
    });
  }

  /** Calls not answered yet. */
  get open(): ScriptedCall[] {
    return this.calls.filter((call) => !call.answered);
  }

  /**
   * Waits, bounded by a count of event-loop turns rather than by time, until `count` calls
   * arrived; fails the test otherwise.
   */
  async untilCalls(count: number, maxTurns = 2000): Promise<void> {
    for (let turn = 0; turn < maxTurns && this.calls.length < count; turn += 1) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (this.calls.length < count) throw new Error(`expected ${count} SWF calls, saw ${this.calls.length}`);
  }

  callsFor(taskToken: string): ScriptedCall[] {
    return this.calls.filter((call) => call.report.taskToken === taskToken);
  }
}
