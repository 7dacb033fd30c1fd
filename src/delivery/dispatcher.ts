import { setMaxListeners } from 'node:events';
import type { Clock, RandomSource, TimerHandle } from '../clock.js';
import { SidecarError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { SidecarMetrics, SwfCallOutcome } from '../metrics.js';
import type { RateLimiter } from '../rate/rate-limiter.js';
import type { SendResult, SwfPort } from '../swf/swf-port.js';
import { SlotList } from '../slot-list.js';
import { tokenHash } from '../token-hash.js';
import type { DeliveryQueue } from './delivery-queue.js';
import type { DeliveryResult, PendingDelivery } from './pending-delivery.js';
import { type BackoffOptions, decideRetry } from './retry-policy.js';

export interface DispatcherOptions {
  /** Most reports taken off the queue at once. */
  readonly maxBatchSize: number;
  /** Most SWF calls waiting for an answer at once. */
  readonly maxInFlight: number;
  readonly backoff: BackoffOptions;
}

export interface DispatcherDeps {
  readonly queue: DeliveryQueue;
  readonly limiter: RateLimiter;
  readonly swf: SwfPort;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly metrics: SidecarMetrics;
  readonly logger: Logger;
  /** Called once per report when its delivery ends, whatever the result. */
  readonly onSettled: (item: PendingDelivery, result: DeliveryResult) => void;
}

/**
 * While the rate holds reports back, the dispatcher wakes at most every 50 ms and sends what the
 * permits allow at once (10 at 200/s), instead of one every 5 ms: each wake-up and each lone HTTP
 * request costs a Node process about as much CPU as the request itself at these rates (a bare
 * Node HTTP client at 200/s: 460 µs a request sent every 5 ms, 220 µs sent 10 at a time every
 * 50 ms; bench/RESULTS.md). SWF's bucket (2,000) does not notice bursts of 10; a report held by
 * the rate waits up to 50 ms longer.
 */
export const MIN_WAKE_MS = 50;

/**
 * Decides *when* reports go to SWF: whenever send slots and rate permits are free it takes a
 * batch off the queue (so at low load a report goes out at once, and under load batches form by
 * themselves) and sends its items concurrently. It owns every timer of the delivery path: the
 * wake-up for the next rate permit and each report's retry backoff.
 */
export class Dispatcher {
  /**
   * One signal for every SWF call in flight, since abandonAll() aborts them all at once: an
   * AbortController per call cost about 700 bytes a call, most of it living long enough to reach
   * V8's old generation (bench/RESULTS.md, "Tails at 1000/s"). Replaced when aborted.
   */
  private calls = callsController();
  /** Each report whose SWF call is out (a SlotList: no garbage a call, see slot-list.ts). */
  private readonly inFlight = new SlotList<PendingDelivery>();
  private readonly retryTimers = new Map<PendingDelivery, TimerHandle>();
  private wakeTimer: TimerHandle | undefined;
  private pumpScheduled = false;
  /** When the dispatcher started waiting for a rate permit with work and slots at hand. */
  private rateBlockedSinceMs: number | undefined;

  constructor(
    private readonly options: DispatcherOptions,
    private readonly deps: DispatcherDeps,
  ) {
    deps.limiter.attach?.({ backlog: () => deps.queue.length, permitsArrived: () => this.onPermitsArrived() });
  }

  enqueue(item: PendingDelivery): void {
    item.readyAtMs = this.deps.clock.now();
    this.deps.queue.push(item);
    this.schedulePump();
  }

  /**
   * Ends every report still outstanding with `error`: queued ones and those waiting to retry at
   * once, in-flight ones by aborting their SWF call (SWF may or may not have recorded those).
   * Returns the reports it ended.
   */
  abandonAll(error: SidecarError): PendingDelivery[] {
    const abandoned: PendingDelivery[] = [...this.deps.queue.take(Number.MAX_SAFE_INTEGER)];
    for (const [item, timer] of this.retryTimers) {
      this.deps.clock.clearTimeout(timer);
      abandoned.push(item);
    }
    this.retryTimers.clear();
    abandoned.push(...this.inFlight.takeAll());
    this.calls.abort(error);
    this.calls = callsController();
    this.deps.metrics.swfInFlight.set(0);
    if (this.wakeTimer !== undefined) this.deps.clock.clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    for (const item of abandoned) this.deps.onSettled(item, { ok: false, attempts: item.attempts, error });
    return abandoned;
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // A microtask, so that every report accepted in the same turn of the event loop can leave
    // in one batch.
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    // Held back by the rate: the wake-up sends what the permits allow then, in one go, rather
    // than one report per accepted call as permits trickle in.
    if (this.wakeTimer !== undefined) return;
    const { queue, limiter, clock, metrics } = this.deps;
    while (queue.length > 0 && this.inFlight.size < this.options.maxInFlight) {
      const wanted = Math.min(this.options.maxBatchSize, this.options.maxInFlight - this.inFlight.size, queue.length);
      const granted = limiter.tryAcquire(wanted);
      if (granted === 0) {
        this.rateBlockedSinceMs ??= clock.now();
        this.wakeAfter(Math.max(MIN_WAKE_MS, limiter.msUntilAvailable()));
        break;
      }
      this.endRateWait();
      const batch = queue.take(granted);
      metrics.batchSize.observe(batch.length);
      for (const item of batch) void this.send(item);
    }
    if (queue.length === 0) this.endRateWait();
  }

  /** Permits came early (a fleet lease landed): a wait for them ends now. */
  private onPermitsArrived(): void {
    if (this.wakeTimer === undefined) return;
    this.deps.clock.clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    this.schedulePump();
  }

  private wakeAfter(delayMs: number): void {
    if (this.wakeTimer !== undefined) return;
    this.wakeTimer = this.deps.clock.setTimeout(() => {
      this.wakeTimer = undefined;
      this.pump();
    }, delayMs);
  }

  private endRateWait(): void {
    if (this.rateBlockedSinceMs === undefined) return;
    this.deps.metrics.rateLimitWaitSeconds.inc((this.deps.clock.now() - this.rateBlockedSinceMs) / 1000);
    this.rateBlockedSinceMs = undefined;
  }

  private async send(item: PendingDelivery): Promise<void> {
    const { clock, metrics } = this.deps;
    const startedAtMs = clock.now();
    metrics.markBusy();
    metrics.queueWaitSeconds.observe((startedAtMs - item.readyAtMs) / 1000);
    item.attempts += 1;
    item.firstAttemptAtMs ??= startedAtMs;
    this.inFlight.add(item);
    metrics.swfInFlight.set(this.inFlight.size);

    const result = await this.callSwf(item, this.calls.signal);

    // abandonAll() may have settled the item while the call was out; its answer changes nothing.
    if (!this.inFlight.remove(item)) return;
    metrics.swfInFlight.set(this.inFlight.size);
    const outcome = outcomeLabel(result);
    metrics.swfRequests.inc({ outcome });
    metrics.swfRequestSeconds.labels({ outcome }).observe((clock.now() - startedAtMs) / 1000);
    this.handleResult(item, result);
    this.schedulePump();
  }

  private async callSwf(item: PendingDelivery, signal: AbortSignal): Promise<SendResult> {
    try {
      return await this.deps.swf.send(item.report, signal);
    } catch (error) {
      // The port promises never to throw; if one does, treat it as transient rather than lose the report.
      return {
        kind: 'retryable',
        reason: 'transient',
        outcomeUnknown: true,
        message: `SWF port failed: ${String(error)}`,
      };
    }
  }

  private handleResult(item: PendingDelivery, result: SendResult): void {
    if (result.kind === 'delivered') {
      this.deps.limiter.onAnswer(false);
      this.deps.onSettled(item, { ok: true, attempts: item.attempts });
      return;
    }
    const requestIdNote = result.requestId === undefined ? '' : ` (request id ${result.requestId})`;
    if (result.kind === 'rejected') {
      this.deps.limiter.onAnswer(false);
      if (result.code === 'not-found' && item.outcomeUnknown) {
        // SWF no longer knows a task that an earlier, unanswered attempt may have failed: the
        // likeliest story is that the attempt went through. Counted apart so it stays visible.
        this.deps.metrics.presumedDelivered.inc();
        this.deps.logger.info(
          { token_hash: tokenHash(item.report.taskToken), attempts: item.attempts },
          'UnknownResourceFault after an attempt of unknown outcome: counted as delivered',
        );
        this.deps.onSettled(item, { ok: true, attempts: item.attempts });
        return;
      }
      const error = new SidecarError(result.code, `SWF refused the report: ${result.message}${requestIdNote}`);
      this.deps.onSettled(item, { ok: false, attempts: item.attempts, error });
      return;
    }
    if (result.reason === 'throttled') this.deps.limiter.onAnswer(true);
    if (result.outcomeUnknown) item.outcomeUnknown = true;
    const { clock, random } = this.deps;
    const decision = decideRetry(
      item.attempts,
      clock.now() - (item.firstAttemptAtMs ?? clock.now()),
      item.budget,
      this.options.backoff,
      random,
    );
    if (decision.retry) {
      this.deps.metrics.swfRetries.inc({ reason: result.reason });
      this.retryLater(item, decision.delayMs);
      return;
    }
    const error =
      result.reason === 'throttled'
        ? new SidecarError(
            'resource-exhausted',
            `SWF kept throttling after ${item.attempts} attempts: ${result.message}${requestIdNote}`,
          )
        : new SidecarError(
            'unavailable',
            `SWF could not be reached after ${item.attempts} attempts: ${result.message}${requestIdNote}`,
          );
    this.deps.onSettled(item, { ok: false, attempts: item.attempts, error });
  }

  private retryLater(item: PendingDelivery, delayMs: number): void {
    item.report.detach?.();
    const timer = this.deps.clock.setTimeout(() => {
      this.retryTimers.delete(item);
      item.readyAtMs = this.deps.clock.now();
      this.deps.queue.pushFront(item);
      this.pump();
    }, delayMs);
    this.retryTimers.set(item, timer);
  }
}

function outcomeLabel(result: SendResult): SwfCallOutcome {
  switch (result.kind) {
    case 'delivered':
      return 'delivered';
    case 'retryable':
      return result.reason;
    case 'rejected':
      return result.code === 'not-found'
        ? 'not_found'
        : result.code === 'permission-denied'
          ? 'permission_denied'
          : result.code === 'invalid-argument'
            ? 'invalid_argument'
            : 'unknown';
  }
}

/** A controller whose signal every call in flight listens to: as many listeners as calls. */
function callsController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
