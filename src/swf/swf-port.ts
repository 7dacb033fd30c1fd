import type { FailureReport } from '../delivery/failure-report.js';

/** How one SWF call ended, as a value: the dispatcher decides what to do with it. */
export type SendResult =
  | { readonly kind: 'delivered'; readonly requestId?: string | undefined }
  | {
      readonly kind: 'retryable';
      /** 'throttled' slows the limiter down; 'transient' only backs off this item. */
      readonly reason: 'throttled' | 'transient';
      /**
       * True when SWF may have recorded the failure although no success came back (a timeout, a
       * reset, a 5xx): a later UnknownResourceFault for the token then most likely means "done".
       */
      readonly outcomeUnknown: boolean;
      readonly message: string;
      readonly requestId?: string | undefined;
    }
  | {
      readonly kind: 'rejected';
      readonly code: 'not-found' | 'permission-denied' | 'invalid-argument' | 'unknown';
      /** SWF's error name, e.g. UnknownResourceFault. */
      readonly errorName: string;
      readonly message: string;
      readonly requestId?: string | undefined;
    };

/**
 * The downstream port: sends one failure report to SWF, exactly one HTTP call, no retries (the
 * dispatcher owns retries). Never throws: every outcome is a SendResult. `signal` aborts the call.
 */
export interface SwfPort {
  send(report: FailureReport, signal: AbortSignal): Promise<SendResult>;
}
