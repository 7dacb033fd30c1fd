import { pino } from 'pino';
import { Registry } from 'prom-client';
import { defaultConfig, type SidecarConfig } from '../../src/config.js';
import { createDeliveryPipeline } from '../../src/delivery/delivery-pipeline.js';
import { SidecarMetrics } from '../../src/metrics.js';
import { LocalRateLimiter } from '../../src/rate/local-rate-limiter.js';
import type { RateLimiter } from '../../src/rate/rate-limiter.js';
import type { RandomSource } from '../../src/clock.js';
import type { SendResult } from '../../src/swf/swf-port.js';
import type { FailureReport } from '../../src/delivery/failure-report.js';
import { ManualClock } from './manual-clock.js';
import { ScriptedSwf } from './scripted-swf.js';

/** What a test may bring of its own: a clock shared by several pipelines, another limiter. */
export interface TestPipelineParts {
  readonly clock?: ManualClock;
  readonly limiter?: RateLimiter;
  readonly random?: RandomSource;
}

/**
 * The delivery pipeline on a manual clock and a scripted SWF, without gRPC; its limiter is a
 * LocalRateLimiter of the configured rate and burst unless `parts` brings one.
 */
export function createTestPipeline(
  overrides: Partial<SidecarConfig> = {},
  responder?: (report: FailureReport, callIndex: number) => SendResult | undefined,
  parts: TestPipelineParts = {},
) {
  const clock = parts.clock ?? new ManualClock();
  const swf = new ScriptedSwf(responder);
  const metrics = new SidecarMetrics(new Registry());
  const config = defaultConfig({ ratePerSecond: 1000, burst: 1000, ...overrides });
  const limiter =
    parts.limiter ?? new LocalRateLimiter({ ratePerSecond: config.ratePerSecond, burst: config.burst }, clock);
  const { service, dispatcher } = createDeliveryPipeline(config, {
    swf,
    limiter,
    clock,
    random: parts.random ?? (() => 0.5),
    metrics,
    logger: pino({ level: 'silent' }),
  });
  return { clock, swf, metrics, limiter, service, dispatcher, config };
}

/**
 * The sum of one series over the samples matching `labels`, e.g.
 * metricValue(m, 'swf_sidecar_swf_retries_total', { reason: 'throttled' }) or 'swf_sidecar_batch_size_count'.
 */
export async function metricValue(
  metrics: SidecarMetrics,
  series: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric =
    metrics.registry.getSingleMetric(series) ??
    metrics.registry.getSingleMetric(series.replace(/_(sum|count|bucket)$/, ''));
  if (metric === undefined) throw new Error(`no metric ${series}`);
  const { values } = await metric.get();
  return values
    .filter((value) => ((value as { metricName?: string }).metricName ?? series) === series)
    .filter((value) => Object.entries(labels).every(([key, expected]) => String(value.labels[key]) === expected))
    .reduce((sum, value) => sum + value.value, 0);
}
