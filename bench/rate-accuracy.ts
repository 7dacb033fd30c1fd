/**
 * Measurement 5: 3,000 QUEUED reports accepted at once, the limiter at 200/s with a burst of
 * 200; the fake SWF (no quota of its own) counts arrivals per second. The mean is taken over the
 * whole seconds after the first (which holds the burst) and before the last (partial) one.
 */
import type { MeasurementResult, Row } from './report.js';
import { fixed, percent, perSecond, ratio } from './support/format.js';
import { runLoad } from './support/load-driver-client.js';
import { DELIVERY } from './support/payload.js';
import { sidecarEnv, startSidecar } from './support/servers.js';
import { DEFAULT_BURST, LIMITER_AT_QUOTA, SWF_RATE_PER_SECOND } from './support/sidecar-settings.js';
import { mean } from './support/stats.js';
import { maxInAnyWindow, perSecondCounts, waitUntil } from './support/timeline.js';
import type { FakeSwf } from '../test/support/fake-swf.js';

export interface RateAccuracyOptions {
  readonly reports: number;
}

export const RATE_ACCURACY_DEFAULTS: RateAccuracyOptions = { reports: 3_000 };

export async function measureRateAccuracy(
  fake: FakeSwf,
  options: RateAccuracyOptions = RATE_ACCURACY_DEFAULTS,
): Promise<MeasurementResult> {
  fake.reset();
  fake.configure({ bucketSize: Number.POSITIVE_INFINITY, refillPerSecond: 0 });
  const sidecar = await startSidecar(sidecarEnv(fake.url, { ...LIMITER_AT_QUOTA }), 'rate');
  let accepted: number;
  let complete: boolean;
  try {
    const result = await runLoad({
      transport: 'grpc',
      target: sidecar.address,
      delivery: DELIVERY.queued,
      tokenPrefix: `rate-${Date.now()}`,
      mode: 'closed',
      connections: 1,
      concurrency: 64,
      warmupMs: 0,
      durationMs: Number.POSITIVE_INFINITY,
      count: options.reports,
    });
    accepted = result.codes['0'] ?? 0;
    const expectedSeconds = (options.reports - DEFAULT_BURST) / SWF_RATE_PER_SECOND;
    complete = await waitUntil(() => fake.accepted().length >= accepted, (expectedSeconds + 10) * 1000);
  } finally {
    await sidecar.stop();
  }

  const arrivals = fake.accepted().map((c) => c.atMs);
  const { counts, firstMs, lastMs } = perSecondCounts(arrivals);
  const steady = counts.slice(1, -1);
  const meanRate = mean(steady);
  // The bucket starts full: `burst` go at once, then one every 1/rate s until the last.
  const sustainedRate = (arrivals.length - DEFAULT_BURST) / ((lastMs - firstMs) / 1000);
  const maxSecond = Math.max(...counts);
  const maxWindow = maxInAnyWindow(arrivals, 1000);
  const ceiling = SWF_RATE_PER_SECOND + DEFAULT_BURST;
  const meanRatio = meanRate / SWF_RATE_PER_SECOND;
  const meanOk = Math.abs(meanRatio - 1) <= 0.01;
  const maxOk = maxSecond <= ceiling;
  const allOk = complete && accepted === options.reports && arrivals.length === options.reports;
  const problems: string[] = [];
  if (!meanOk) problems.push(`mean ${percent(Math.abs(meanRatio - 1))} off (allowed 1%)`);
  if (!maxOk)
    problems.push(
      `second ${counts.indexOf(maxSecond) + 1} had ${maxSecond}, ${maxSecond - ceiling} (${percent(maxSecond / ceiling - 1)}) over`,
    );
  if (!allOk) problems.push(`${arrivals.length} of ${options.reports} reached the fake`);
  const rows: Row[] = [
    {
      id: '5',
      what: `rate accuracy, ${options.reports.toLocaleString('en-US')} queued, 200/s burst 200`,
      sidecar: `mean ${fixed(meanRate, 1)}/s over ${steady.length} whole s; max second ${maxSecond} (any 1 s window: ${maxWindow})`,
      baseline: `limiter setting ${perSecond(SWF_RATE_PER_SECOND)}`,
      figure: `${ratio(meanRatio)} the set rate (sustained ${fixed(sustainedRate, 1)}/s)`,
      target: `mean within 1% of 200/s; no second > ${ceiling}`,
      verdict: meanOk && maxOk && allOk ? 'pass' : 'miss',
      ...(problems.length === 0 ? {} : { missBy: problems.join('; ') }),
    },
  ];
  return {
    id: '5',
    title: 'rate accuracy',
    rows,
    raw: {
      options,
      accepted,
      reachedFake: arrivals.length,
      perSecond: counts,
      meanRate,
      meanRatio,
      sustainedRate,
      maxSecond,
      maxInAnyOneSecondWindow: maxWindow,
    },
  };
}
