import { createRequire } from 'node:module';
import { collectDefaultMetrics, Gauge, type Registry } from 'prom-client';
import type { LoopDelayMonitor, LoopDelaySnapshot } from './loop-delay-monitor.js';

const require = createRequire(import.meta.url);

type DefaultCollector = (registry: Registry, config: object) => void;

/**
 * prom-client's default metrics (process_*, nodejs_*), every one under its usual name, but with
 * the event-loop delay gauges fed by a LoopDelayMonitor that samples only while the sidecar has
 * work: prom-client's own collector keeps perf_hooks' monitor running every 10 ms, idle or not.
 * The other collectors read what they report at scrape time and arm no timer (gc uses a
 * PerformanceObserver: it runs only when V8 collects), so they cost nothing between scrapes.
 *
 * prom-client exports no single collector, so they are loaded by their file names, which its
 * `metricsList` gives (pinned by the lock file; the metrics tests read every name back).
 */
export function registerNodeMetrics(registry: Registry, loopDelay: LoopDelayMonitor | undefined): void {
  for (const name of collectDefaultMetrics.metricsList) {
    if (name === 'eventLoopLag') continue;
    (require(`prom-client/lib/metrics/${name}.js`) as DefaultCollector)(registry, {});
  }
  registerLoopDelayGauges(registry, loopDelay);
}

const GAUGES: readonly { name: string; help: string; pick: (s: LoopDelaySnapshot) => number }[] = [
  { name: 'min', help: 'The minimum recorded event loop delay.', pick: (s) => s.minSeconds },
  { name: 'max', help: 'The maximum recorded event loop delay.', pick: (s) => s.maxSeconds },
  { name: 'mean', help: 'The mean of the recorded event loop delays.', pick: (s) => s.meanSeconds },
  { name: 'stddev', help: 'The standard deviation of the recorded event loop delays.', pick: (s) => s.stddevSeconds },
  { name: 'p50', help: 'The 50th percentile of the recorded event loop delays.', pick: (s) => s.p50Seconds },
  { name: 'p90', help: 'The 90th percentile of the recorded event loop delays.', pick: (s) => s.p90Seconds },
  { name: 'p99', help: 'The 99th percentile of the recorded event loop delays.', pick: (s) => s.p99Seconds },
];

/**
 * nodejs_eventloop_lag_seconds (a setImmediate timed at scrape) and the sampled
 * nodejs_eventloop_lag_{min,max,mean,stddev,p50,p90,p99}_seconds, as prom-client names them.
 * The sampled ones cover the time since the previous scrape; they are 0 when nothing was sampled
 * (the sidecar idle since then, so nothing waited on its loop).
 */
function registerLoopDelayGauges(registry: Registry, loopDelay: LoopDelayMonitor | undefined): void {
  const sampled = GAUGES.map(
    (g) => [g, new Gauge({ name: `nodejs_eventloop_lag_${g.name}_seconds`, help: g.help, registers: [] })] as const,
  );
  const lag = new Gauge({
    name: 'nodejs_eventloop_lag_seconds',
    help: 'Lag of event loop in seconds.',
    registers: [],
    async collect() {
      const snapshot = loopDelay?.takeSnapshot();
      for (const [g, gauge] of sampled) gauge.set(snapshot === undefined ? 0 : g.pick(snapshot));
      const startedMs = performance.now();
      await new Promise((resolve) => setImmediate(resolve));
      this.set((performance.now() - startedMs) / 1000);
    },
  });
  // Registered first: a scrape reads the metrics in order, and this one's collect sets the others
  // (synchronously, before its own wait) from one snapshot.
  registry.registerMetric(lag);
  for (const [, gauge] of sampled) registry.registerMetric(gauge);
}
