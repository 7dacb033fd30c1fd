import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Clock, TimerHandle } from '../clock.js';

/** What the monitor uses of perf_hooks' event-loop delay histogram (a fake in tests). */
export interface DelayHistogram {
  enable(): boolean;
  disable(): boolean;
  reset(): void;
  /** Samples recorded since the last reset. */
  readonly count: number;
  /** In ns, like every figure below. */
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly stddev: number;
  percentile(percentile: number): number;
}

/** The event loop's delay since the last snapshot, in seconds. */
export interface LoopDelaySnapshot {
  readonly minSeconds: number;
  readonly maxSeconds: number;
  readonly meanSeconds: number;
  readonly stddevSeconds: number;
  readonly p50Seconds: number;
  readonly p90Seconds: number;
  readonly p99Seconds: number;
}

/**
 * prom-client's default, and what its nodejs_eventloop_lag_* gauges have always shown here: a
 * sample every 10 ms. Like prom-client, the figures are the whole interval between two samples,
 * so an unloaded loop shows about 10 ms, not 0.
 */
export const LOOP_DELAY_RESOLUTION_MS = 10;

/**
 * How long after its last call or SWF request the sidecar still samples its loop. Checked by one
 * timer per period while busy; none at all while idle.
 */
export const LOOP_DELAY_IDLE_AFTER_MS = 10_000;

/**
 * Event-loop delay sampled only while the sidecar has work. perf_hooks' monitor wakes the
 * process every `resolution` ms whatever happens (100 times a second at prom-client's 10 ms):
 * measured, that was nearly all of an idle sidecar's CPU (0.004 vCPU against 0.00001 for a bare
 * grpc-js server). Here the histogram is enabled by the first call after a quiet spell and
 * disabled once `idleAfterMs` passes with no call, so an idle sidecar arms no timer at all.
 * Nothing is lost: an idle loop has nothing to delay.
 */
export class LoopDelayMonitor {
  private enabled = false;
  private busySinceCheck = false;
  private idleCheck: TimerHandle | undefined;

  private readonly histogram: DelayHistogram;
  private readonly idleAfterMs: number;
  private readonly onIdle: (() => void) | undefined;

  constructor(
    private readonly clock: Clock,
    options: {
      readonly histogram?: DelayHistogram;
      readonly idleAfterMs?: number;
      /** Called each time sampling stops: the sidecar has had no work for `idleAfterMs`. */
      readonly onIdle?: () => void;
    } = {},
  ) {
    this.histogram = options.histogram ?? monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
    this.idleAfterMs = options.idleAfterMs ?? LOOP_DELAY_IDLE_AFTER_MS;
    this.onIdle = options.onIdle;
  }

  /** The sidecar has work (a call, an SWF request). On the hot path: one store while sampling. */
  markBusy(): void {
    if (this.enabled) {
      this.busySinceCheck = true;
      return;
    }
    this.enabled = true;
    this.histogram.enable();
    this.armIdleCheck();
  }

  /** Whether the histogram is sampling now. */
  get sampling(): boolean {
    return this.enabled;
  }

  /**
   * The delays sampled since the previous snapshot (and starts a new period), or undefined when
   * none were: the sidecar was idle all along.
   */
  takeSnapshot(): LoopDelaySnapshot | undefined {
    const h = this.histogram;
    if (h.count === 0) return undefined;
    const snapshot = {
      minSeconds: h.min / 1e9,
      maxSeconds: h.max / 1e9,
      meanSeconds: h.mean / 1e9,
      stddevSeconds: h.stddev / 1e9,
      p50Seconds: h.percentile(50) / 1e9,
      p90Seconds: h.percentile(90) / 1e9,
      p99Seconds: h.percentile(99) / 1e9,
    };
    h.reset();
    return snapshot;
  }

  /** Stops sampling and clears the timer (at shutdown). */
  stop(): void {
    if (this.idleCheck !== undefined) this.clock.clearTimeout(this.idleCheck);
    this.idleCheck = undefined;
    if (this.enabled) this.histogram.disable();
    this.enabled = false;
    this.busySinceCheck = false;
  }

  private armIdleCheck(): void {
    this.idleCheck = this.clock.setTimeout(() => {
      this.idleCheck = undefined;
      if (this.busySinceCheck) {
        this.busySinceCheck = false;
        this.armIdleCheck();
        return;
      }
      this.enabled = false;
      this.histogram.disable();
      this.onIdle?.();
    }, this.idleAfterMs);
  }
}
