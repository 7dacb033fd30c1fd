/**
 * Measurement 6: the fake SWF enforces its own quota below the sidecar's limit (bucket 100,
 * refill 100/s against the sidecar's 200/s, burst 200) and answers ThrottlingException beyond
 * it. Goodput is what got through per second over the run, less what the fake's full bucket let
 * through for free at the start: (delivered - bucket) / (last delivery - first call). Lost is
 * every report accepted as QUEUED that the fake never accepted.
 */
import type { MeasurementResult, Row } from './report.js';
import { fixed, percent, perSecond, ratio } from './support/format.js';
import { runLoad } from './support/load-driver-client.js';
import { metricValue, scrapeMetrics } from './support/metrics-scrape.js';
import { DELIVERY } from './support/payload.js';
import { sidecarEnv, startSidecar } from './support/servers.js';
import { LIMITER_AT_QUOTA } from './support/sidecar-settings.js';
import { perSecondCounts, waitUntil } from './support/timeline.js';
import type { FakeSwf } from '../test/support/fake-swf.js';

export interface ThrottledOptions {
  readonly reports: number;
  readonly fakeBucket: number;
  readonly fakeRefillPerSecond: number;
  /** Give up waiting for the last deliveries after this long. */
  readonly timeoutMs: number;
}

export const THROTTLED_DEFAULTS: ThrottledOptions = {
  reports: 1_500,
  fakeBucket: 100,
  fakeRefillPerSecond: 100,
  timeoutMs: 60_000,
};

export async function measureThrottledGoodput(
  fake: FakeSwf,
  options: ThrottledOptions = THROTTLED_DEFAULTS,
): Promise<MeasurementResult> {
  fake.reset();
  const sidecar = await startSidecar(sidecarEnv(fake.url, { ...LIMITER_AT_QUOTA }), 'throttled');
  let accepted: number;
  let complete: boolean;
  let metrics: string;
  let elapsedMs: number;
  try {
    // A new, full bucket now, so nothing before this measurement drew on it.
    fake.configure({ bucketSize: options.fakeBucket, refillPerSecond: options.fakeRefillPerSecond });
    const startedMs = performance.now();
    const result = await runLoad({
      transport: 'grpc',
      target: sidecar.address,
      delivery: DELIVERY.queued,
      tokenPrefix: `throttled-${Date.now()}`,
      mode: 'closed',
      connections: 1,
      concurrency: 64,
      warmupMs: 0,
      durationMs: Number.POSITIVE_INFINITY,
      count: options.reports,
    });
    accepted = result.codes['0'] ?? 0;
    complete = await waitUntil(() => fake.accepted().length >= accepted, options.timeoutMs);
    elapsedMs = performance.now() - startedMs;
    metrics = await scrapeMetrics(sidecar.metricsAddress ?? '');
  } finally {
    await sidecar.stop();
    fake.configure({ bucketSize: Number.POSITIVE_INFINITY, refillPerSecond: 0 });
  }

  const calls = fake.calls;
  const deliveredTokens = new Set(fake.accepted().map((c) => c.taskToken));
  const throttled = calls.filter((c) => c.answer === 'ThrottlingException').length;
  const arrivals = fake.accepted().map((c) => c.atMs);
  const firstCallMs = Math.min(...calls.map((c) => c.atMs));
  const lastDeliveryMs = Math.max(...arrivals);
  const goodput = (deliveredTokens.size - options.fakeBucket) / ((lastDeliveryMs - firstCallMs) / 1000);
  const goodputRatio = goodput / options.fakeRefillPerSecond;
  const lost = accepted - deliveredTokens.size;
  const notDelivered =
    metricValue(metrics, 'swf_sidecar_deliveries_total') -
    metricValue(metrics, 'swf_sidecar_deliveries_total', { result: 'delivered' });
  const ok = goodputRatio >= 0.95 && lost === 0 && notDelivered === 0 && complete && accepted === options.reports;
  const problems: string[] = [];
  if (goodputRatio < 0.95) problems.push(`goodput ${percent(0.95 - goodputRatio)} points below 95%`);
  if (lost !== 0 || !complete) problems.push(`${lost} lost`);
  if (notDelivered !== 0) problems.push(`${notDelivered} ended undelivered`);
  if (accepted !== options.reports) problems.push(`${options.reports - accepted} refused at intake`);
  const rows: Row[] = [
    {
      id: '6',
      what: `throttled goodput, fake quota ${options.fakeRefillPerSecond}/s (bucket ${options.fakeBucket}) under our 200/s`,
      sidecar: `${fixed(goodput, 1)}/s delivered, ${lost} lost, ${throttled} throttled answers`,
      baseline: `fake refill ${perSecond(options.fakeRefillPerSecond)}`,
      figure: `${ratio(goodputRatio)} the refill; ${lost} lost`,
      target: '>= 0.95x the refill; 0 lost',
      verdict: ok ? 'pass' : 'miss',
      ...(problems.length === 0 ? {} : { missBy: problems.join('; ') }),
    },
  ];
  return {
    id: '6',
    title: 'throttled goodput',
    rows,
    raw: {
      options,
      accepted,
      delivered: deliveredTokens.size,
      lost,
      notDelivered,
      throttled,
      swfCalls: calls.length,
      goodput,
      goodputRatio,
      elapsedMs,
      deliveredPerSecond: perSecondCounts(arrivals).counts,
      retries: metricValue(metrics, 'swf_sidecar_swf_retries_total'),
    },
  };
}
