import { CompactReport } from './compact-report.js';

/** One activity task failure as SWF's RespondActivityTaskFailed takes it. */
export interface FailureReport {
  readonly taskToken: string;
  /** Absent: SWF gets no reason. "" is sent as "". */
  readonly reason?: string | undefined;
  /** Absent: SWF gets no details. "" is sent as "". */
  readonly details?: string | undefined;
  /** Called when the report will wait long (a retry): let go of storage shared with others. */
  detach?(): void;
}

/** When the caller is answered: after SWF answered, or as soon as the sidecar accepted. */
export type DeliveryMode = 'confirmed' | 'queued';

/** What an accepted report's caller is told. */
export interface SubmitResult {
  readonly outcome: 'delivered' | 'queued';
  /** SWF calls made for it; 0 when queued or answered from the recent-deliveries window. */
  readonly attempts: number;
}

/** Per-item overhead added to the characters of a report when bounding the queue's bytes. */
const REPORT_OVERHEAD_BYTES = 256;

/**
 * Approximate memory a queued report holds: its characters plus a fixed overhead. Characters,
 * not UTF-8 bytes, because measuring bytes would cost a pass over up to 32 KB on every call.
 */
export function approximateReportBytes(report: FailureReport): number {
  if (report instanceof CompactReport) return REPORT_OVERHEAD_BYTES + report.heldBytes;
  return REPORT_OVERHEAD_BYTES + report.taskToken.length + (report.reason?.length ?? 0) + (report.details?.length ?? 0);
}
