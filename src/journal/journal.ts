import type { FailureReport } from '../delivery/failure-report.js';

/** A report read back from the journal at start-up. */
export interface JournalRecord {
  readonly id: number;
  readonly report: FailureReport;
}

/** What the journal found when it opened. */
export interface JournalRecovery {
  /** Reports appended and never marked settled, in append order. */
  readonly pending: readonly JournalRecord[];
  /** Bytes of torn or corrupt data skipped (a crash mid-write); 0 normally. */
  readonly corruptBytesSkipped: number;
  /** Corrupt or torn records skipped. */
  readonly corruptRecordsSkipped: number;
}

/**
 * Durable storage for QUEUED reports, so a report acknowledged as QUEUED survives a crash.
 * At-least-once: a report is appended (and synced) before its caller hears QUEUED, and marked
 * settled after SWF answered; a crash between the two sends it again on the next start.
 */
export interface Journal {
  /** Reads back what is not settled yet. Called once, before the first append. */
  open(): Promise<JournalRecovery>;
  /**
   * Appends a report and resolves once it is on disk and synced. Concurrent appends share one
   * sync (group commit). Rejects with SidecarError('resource-exhausted') when the journal is at
   * its byte bound.
   */
  append(report: FailureReport): Promise<number>;
  /** The report's delivery ended (delivered, or finally refused): it need not be replayed. */
  markSettled(id: number): void;
  stats(): { readonly bytes: number; readonly pendingRecords: number };
  /** Flushes what is buffered (settled marks) and closes. Idempotent. */
  close(): Promise<void>;
}
