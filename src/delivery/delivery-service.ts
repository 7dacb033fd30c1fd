import type { Clock } from '../clock.js';
import { SidecarError } from '../errors.js';
import type { JournalRecord, Journal } from '../journal/journal.js';
import type { Logger } from '../logger.js';
import type { DeliveryFinalResult, SidecarMetrics } from '../metrics.js';
import type { RateLimiter } from '../rate/rate-limiter.js';
import { tokenHash } from '../token-hash.js';
import { YoungMap } from '../young-map.js';
import type { Dispatcher } from './dispatcher.js';
import { type DeliveryMode, type FailureReport, type SubmitResult, approximateReportBytes } from './failure-report.js';
import { PendingDelivery, type DeliveryResult } from './pending-delivery.js';
import type { RecentDeliveries } from './recent-deliveries.js';
import type { RetryBudget } from './retry-policy.js';
import { validateReport } from './validate-report.js';

export interface DeliveryServiceOptions {
  /** Bounds on accepted reports not yet settled (waiting, in flight, or waiting to retry). */
  readonly maxQueueItems: number;
  readonly maxQueueBytes: number;
  /** Retry budget of a report someone waits on (CONFIRMED) and of one nobody waits on (QUEUED). */
  readonly confirmedRetryBudget: RetryBudget;
  readonly queuedRetryBudget: RetryBudget;
}

export interface DeliveryServiceDeps {
  readonly recent: RecentDeliveries;
  /** Durable storage for QUEUED reports; without it they live in memory only. */
  readonly journal?: Journal | undefined;
  readonly limiter: RateLimiter;
  readonly clock: Clock;
  readonly metrics: SidecarMetrics;
  readonly logger: Logger;
}

/** What drain() leaves behind when the grace period ends first. */
export interface DrainReport {
  readonly delivered: boolean;
  readonly undelivered: number;
}

/**
 * Decides *what* happens to a report: validation, duplicate handling, admission under the queue's
 * bounds, and the answer each caller gets. The Dispatcher decides *when* it is sent.
 */
export class DeliveryService {
  /** Kept young (young-map.ts): an entry comes and goes with every report. */
  private readonly pendingByToken = new YoungMap<string, PendingDelivery>();
  private queuedItems = 0;
  private queuedBytes = 0;
  private accepting = true;
  private drainWaiter: (() => void) | undefined;
  /** The error drain() ends what is left with; those reports stay in the journal. */
  private shutdownError: SidecarError | undefined;
  private dispatcher!: Dispatcher;

  constructor(
    private readonly options: DeliveryServiceOptions,
    private readonly deps: DeliveryServiceDeps,
  ) {}

  /** Wires the dispatcher in; the composition root breaks the cycle between the two this way. */
  attach(dispatcher: Dispatcher): void {
    this.dispatcher = dispatcher;
  }

  stats(): { items: number; bytes: number } {
    return { items: this.queuedItems, bytes: this.queuedBytes };
  }

  /**
   * Accepts one report. Resolves with the caller's answer, or rejects with a SidecarError whose
   * kind maps to the gRPC status. A caller that goes away does not stop the delivery.
   */
  async submit(report: FailureReport, mode: DeliveryMode): Promise<SubmitResult> {
    const { metrics, clock } = this.deps;
    const invalid = validateReport(report);
    if (invalid !== undefined) {
      metrics.rejections.inc({ reason: 'invalid_argument' });
      throw invalid;
    }
    if (!this.accepting) {
      metrics.rejections.inc({ reason: 'shutting_down' });
      throw new SidecarError(
        'unavailable',
        'the sidecar is shutting down; send the report to another instance or retry',
      );
    }
    const now = clock.now();
    if (this.deps.recent.has(report.taskToken, now)) {
      metrics.duplicates.inc({ kind: 'recently_delivered' });
      return { outcome: 'delivered', attempts: 0 };
    }
    const existing = this.pendingByToken.get(report.taskToken);
    if (existing !== undefined) {
      metrics.duplicates.inc({ kind: 'joined' });
      if (mode === 'queued') {
        this.widenBudgetForQueued(existing);
        await this.makeDurable(existing, false);
        return QUEUED;
      }
      return answerFor(await existing.settled);
    }

    const item = this.admit(report, mode, now);
    if (mode === 'queued') {
      // Durable before the caller hears QUEUED; a failed append ends the item for every joiner.
      if (this.deps.journal !== undefined) await this.makeDurable(item, true);
      this.dispatcher.enqueue(item);
      return QUEUED;
    }
    this.dispatcher.enqueue(item);
    return answerFor(await item.settled);
  }

  /**
   * Queues again the reports a previous run journalled and never settled. Called once at
   * start-up, before the sidecar reports ready; they bypass the queue bounds because they were
   * accepted already. Whether their earlier attempt reached SWF is unknown.
   */
  restore(records: readonly JournalRecord[]): void {
    const { clock } = this.deps;
    for (const record of records) {
      const existing = this.pendingByToken.get(record.report.taskToken);
      if (existing !== undefined) {
        // The same token journalled twice (a crash between a duplicate's append and its mark).
        this.deps.journal?.markSettled(record.id);
        continue;
      }
      const item = new PendingDelivery(
        record.report,
        approximateReportBytes(record.report),
        'queued',
        this.options.queuedRetryBudget,
        clock.now(),
      );
      item.journalId = record.id;
      item.outcomeUnknown = true;
      this.track(item);
      this.dispatcher.enqueue(item);
    }
  }

  /**
   * Stops accepting, then waits for every accepted report to settle or for `graceMs` to pass.
   * What is left then is ended as undelivered: logged with token hashes, counted, and its waiting
   * callers told UNAVAILABLE. Never drops a report silently.
   */
  async drain(graceMs: number): Promise<DrainReport> {
    this.accepting = false;
    if (this.queuedItems > 0) {
      await new Promise<void>((resolve) => {
        const timer = this.deps.clock.setTimeout(() => resolve(), graceMs);
        this.drainWaiter = () => {
          this.deps.clock.clearTimeout(timer);
          resolve();
        };
      });
      this.drainWaiter = undefined;
    }
    if (this.queuedItems === 0) return { delivered: true, undelivered: 0 };
    this.shutdownError = new SidecarError(
      'unavailable',
      `the sidecar shut down before SWF confirmed the report (grace period ${graceMs} ms)`,
    );
    const abandoned = this.dispatcher.abandonAll(this.shutdownError);
    const journalled = abandoned.filter((item) => item.journalId !== undefined);
    this.deps.logger.error(
      {
        undelivered: abandoned.length,
        kept_in_journal: journalled.length,
        token_hashes: abandoned.map((item) => tokenHash(item.report.taskToken)),
      },
      journalled.length > 0
        ? 'shutdown grace period ended with reports not delivered to SWF; journalled ones are replayed on the next start'
        : 'shutdown grace period ended with reports not delivered to SWF',
    );
    return { delivered: false, undelivered: abandoned.length };
  }

  /** The dispatcher's callback: one report's delivery ended. */
  onSettled(item: PendingDelivery, result: DeliveryResult): void {
    if (!item.settle(result)) return;
    const { metrics, clock, logger, journal } = this.deps;
    // A report abandoned at shutdown stays in the journal, to be replayed on the next start.
    const abandonedAtShutdown = !result.ok && result.error === this.shutdownError;
    if (journal !== undefined && item.journalId !== undefined && !abandonedAtShutdown) {
      journal.markSettled(item.journalId);
    }
    this.pendingByToken.delete(item.report.taskToken);
    this.queuedItems -= 1;
    this.queuedBytes -= item.bytes;
    if (result.ok) {
      this.deps.recent.remember(item.report.taskToken, clock.now());
    } else if (!abandonedAtShutdown) {
      // (What shutdown abandons is logged once, all token hashes in one line, by drain().)
      logger.warn(
        {
          token_hash: tokenHash(item.report.taskToken),
          mode: item.mode,
          attempts: result.attempts,
          error: result.error.message,
        },
        'failure report not delivered to SWF',
      );
    }
    metrics.deliveries.inc({
      mode: item.mode,
      result: abandonedAtShutdown ? 'undelivered_at_shutdown' : finalResultLabel(result),
    });
    if (this.queuedItems === 0) this.drainWaiter?.();
  }

  private admit(report: FailureReport, mode: DeliveryMode, now: number): PendingDelivery {
    const { metrics } = this.deps;
    const bytes = approximateReportBytes(report);
    if (this.queuedItems + 1 > this.options.maxQueueItems || this.queuedBytes + bytes > this.options.maxQueueBytes) {
      metrics.rejections.inc({ reason: 'queue_full' });
      const retryAfterMs = this.estimateRetryAfterMs();
      throw new SidecarError(
        'resource-exhausted',
        `the sidecar's queue is full (${this.queuedItems} reports, ${this.queuedBytes} bytes; limits ` +
          `${this.options.maxQueueItems} and ${this.options.maxQueueBytes}); retry after ${retryAfterMs} ms`,
        { retryAfterMs },
      );
    }
    const budget = mode === 'queued' ? this.options.queuedRetryBudget : this.options.confirmedRetryBudget;
    const item = new PendingDelivery(report, bytes, mode, budget, now);
    this.track(item);
    return item;
  }

  private track(item: PendingDelivery): void {
    this.pendingByToken.set(item.report.taskToken, item);
    this.queuedItems += 1;
    this.queuedBytes += item.bytes;
  }

  /**
   * Writes a QUEUED report to the journal (once, however many callers join) and resolves when it
   * is synced. Without a journal there is nothing to wait for. If the append fails (journal
   * full, disk error), the caller is told; a report not yet handed to the dispatcher
   * (`endOnFailure`) is ended with that error, while one already on its way keeps going.
   */
  private makeDurable(item: PendingDelivery, endOnFailure: boolean): Promise<void> {
    const { journal, metrics } = this.deps;
    if (journal === undefined) return Promise.resolve();
    item.durable ??= journal.append(item.report).then(
      (id) => {
        item.journalId = id;
        if (item.isSettled) journal.markSettled(id);
      },
      (error: unknown) => {
        const failure =
          error instanceof SidecarError
            ? error
            : new SidecarError('unavailable', `could not write the report to the journal: ${String(error)}`, {
                cause: error,
              });
        if (failure.kind === 'resource-exhausted') metrics.rejections.inc({ reason: 'journal_full' });
        if (endOnFailure) this.onSettled(item, { ok: false, attempts: 0, error: failure });
        throw failure;
      },
    );
    return item.durable;
  }

  /** A QUEUED caller joining a CONFIRMED delivery is owed the longer QUEUED retry budget. */
  private widenBudgetForQueued(item: PendingDelivery): void {
    if (item.mode === 'queued') return;
    item.mode = 'queued';
    item.budget = this.options.queuedRetryBudget;
  }

  /** When a tenth of the queue will have gone out at the current send rate; at least 100 ms. */
  private estimateRetryAfterMs(): number {
    const rate = Math.max(1, this.deps.limiter.currentRatePerSecond());
    return Math.max(100, Math.ceil(((this.queuedItems / 10) * 1000) / rate));
  }
}

/** The answer of every accepted QUEUED report. */
const QUEUED: SubmitResult = Object.freeze({ outcome: 'queued', attempts: 0 });

function answerFor(result: DeliveryResult): SubmitResult {
  if (result.ok) return { outcome: 'delivered', attempts: result.attempts };
  throw result.error;
}

function finalResultLabel(result: DeliveryResult): DeliveryFinalResult {
  if (result.ok) return 'delivered';
  switch (result.error.kind) {
    case 'not-found':
      return 'not_found';
    case 'permission-denied':
      return 'permission_denied';
    case 'invalid-argument':
      return 'invalid_argument';
    case 'resource-exhausted':
      return 'throttled_out';
    case 'unavailable':
      return 'unavailable';
    case 'unknown':
      return 'unknown';
  }
}
