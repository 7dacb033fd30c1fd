import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { SidecarMetrics } from '../../src/metrics.js';
import { type DelayHistogram, LoopDelayMonitor } from '../../src/ops/loop-delay-monitor.js';
import { ManualClock } from '../support/manual-clock.js';

/** perf_hooks' histogram as the test says: enabled or not, and samples handed in. */
class FakeHistogram implements DelayHistogram {
  enabled = false;
  samplesNs: number[] = [];
  enable(): boolean {
    const changed = !this.enabled;
    this.enabled = true;
    return changed;
  }
  disable(): boolean {
    const changed = this.enabled;
    this.enabled = false;
    return changed;
  }
  reset(): void {
    this.samplesNs = [];
  }
  get count(): number {
    return this.samplesNs.length;
  }
  get min(): number {
    return Math.min(...this.samplesNs);
  }
  get max(): number {
    return Math.max(...this.samplesNs);
  }
  get mean(): number {
    return this.samplesNs.reduce((a, b) => a + b, 0) / this.samplesNs.length;
  }
  get stddev(): number {
    return 0;
  }
  percentile(p: number): number {
    const sorted = [...this.samplesNs].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
  }
}

const IDLE_AFTER_MS = 10_000;

function setUp(): { clock: ManualClock; histogram: FakeHistogram; monitor: LoopDelayMonitor; idleCalls: () => number } {
  const clock = new ManualClock();
  const histogram = new FakeHistogram();
  let idle = 0;
  const monitor = new LoopDelayMonitor(clock, { histogram, idleAfterMs: IDLE_AFTER_MS, onIdle: () => (idle += 1) });
  return { clock, histogram, monitor, idleCalls: () => idle };
}

describe('LoopDelayMonitor', () => {
  it('arms no timer and samples nothing while the sidecar has had no work', async () => {
    const { clock, histogram, monitor } = setUp();
    await clock.advance(60_000);
    assert.equal(clock.pendingTimers, 0);
    assert.equal(histogram.enabled, false);
    assert.equal(monitor.sampling, false);
  });

  it('samples from the first call, with one timer however many calls come', () => {
    const { clock, histogram, monitor } = setUp();
    for (let i = 0; i < 1000; i += 1) monitor.markBusy();
    assert.equal(histogram.enabled, true);
    assert.equal(clock.pendingTimers, 1);
  });

  it('keeps sampling while calls keep coming, and stops, with no timer left, after a quiet spell', async () => {
    const { clock, histogram, monitor } = setUp();
    monitor.markBusy();
    for (let second = 0; second < 30; second += 1) {
      await clock.advance(1_000);
      monitor.markBusy();
    }
    assert.equal(histogram.enabled, true);
    assert.equal(clock.pendingTimers, 1);
    // The last call is at most one period before the check that finds it, then one quiet period.
    await clock.advance(2 * IDLE_AFTER_MS);
    assert.equal(histogram.enabled, false);
    assert.equal(clock.pendingTimers, 0);
    await clock.advance(3_600_000);
    assert.equal(clock.pendingTimers, 0);
    // The next call starts it again.
    monitor.markBusy();
    assert.equal(histogram.enabled, true);
    assert.equal(clock.pendingTimers, 1);
  });

  it('hands out the delays sampled since the last snapshot, in seconds, then none until more are sampled', () => {
    const { histogram, monitor } = setUp();
    assert.equal(monitor.takeSnapshot(), undefined);
    histogram.samplesNs = [10e6, 11e6, 30e6];
    const snapshot = monitor.takeSnapshot();
    assert.equal(snapshot?.minSeconds, 0.01);
    assert.equal(snapshot?.maxSeconds, 0.03);
    assert.equal(snapshot?.p99Seconds, 0.03);
    assert.equal(monitor.takeSnapshot(), undefined);
  });

  it('says once that the sidecar went idle, after its quiet spell, never while busy or before any work', async () => {
    const { clock, monitor, idleCalls } = setUp();
    await clock.advance(60_000);
    assert.equal(idleCalls(), 0);
    monitor.markBusy();
    for (let second = 0; second < 30; second += 1) {
      await clock.advance(1_000);
      monitor.markBusy();
    }
    assert.equal(idleCalls(), 0);
    await clock.advance(2 * IDLE_AFTER_MS);
    assert.equal(idleCalls(), 1);
    await clock.advance(3_600_000);
    assert.equal(idleCalls(), 1);
  });

  it('stop() clears its timer', () => {
    const { clock, histogram, monitor } = setUp();
    monitor.markBusy();
    monitor.stop();
    assert.equal(clock.pendingTimers, 0);
    assert.equal(histogram.enabled, false);
  });
});

describe('nodejs_eventloop_lag_* on the sidecar registry', () => {
  const value = (text: string, name: string): number => {
    const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    assert.ok(match?.[1] !== undefined, `${name} missing from /metrics`);
    return Number(match[1]);
  };

  it('exports every lag gauge prom-client has, from the monitor, and 0 for a period with nothing sampled', async () => {
    const { histogram, monitor } = setUp();
    const registry = new Registry();
    const metrics = new SidecarMetrics(registry, monitor);
    metrics.markBusy();
    histogram.samplesNs = [10e6, 12e6, 25e6];
    const busy = await registry.metrics();
    assert.equal(value(busy, 'nodejs_eventloop_lag_p99_seconds'), 0.025);
    assert.equal(value(busy, 'nodejs_eventloop_lag_min_seconds'), 0.01);
    assert.ok(value(busy, 'nodejs_eventloop_lag_seconds') >= 0);
    for (const name of ['max', 'mean', 'stddev', 'p50', 'p90']) value(busy, `nodejs_eventloop_lag_${name}_seconds`);
    const idle = await registry.metrics();
    assert.equal(value(idle, 'nodejs_eventloop_lag_p99_seconds'), 0);
  });

  it("keeps prom-client's other default metrics", async () => {
    const registry = new Registry();
    new SidecarMetrics(registry);
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'process_start_time_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_gc_duration_seconds',
      'nodejs_active_handles_total',
      'nodejs_version_info',
    ]) {
      assert.ok(names.includes(name), `${name} missing`);
    }
  });
});

describe('releaseMemory', () => {
  it('collects without leaving gc() on the global object', async () => {
    const { releaseMemory } = await import('../../src/ops/release-memory.js');
    releaseMemory();
    releaseMemory();
    assert.equal((globalThis as { gc?: unknown }).gc, undefined);
  });
});
