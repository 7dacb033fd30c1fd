import { pino } from 'pino';
import { Registry } from 'prom-client';
import { FleetMetrics } from '../../src/metrics.js';
import { FleetRateLimiter } from '../../src/rate/fleet-rate-limiter.js';
import { LocalRateLimiter } from '../../src/rate/local-rate-limiter.js';
import { ManualClock } from './manual-clock.js';
import { createTestPipeline } from './pipeline-harness.js';
import { DELIVERED } from './scripted-swf.js';
import { seededRandom } from './seeded-random.js';
import { TestFleetStore } from './test-fleet-store.js';

export interface FleetSimulationOptions {
  readonly sidecars: number;
  readonly reportsPerSidecar: number;
  readonly fleetRatePerSecond: number;
  readonly fleetBurst: number;
  readonly local: { readonly ratePerSecond: number; readonly burst: number };
  /** How long the store takes to answer a lease (Redis's round trip). */
  readonly leaseLatencyMs: number;
  /** Sidecar i draws its randomness from seed `seed + i`. */
  readonly seed: number;
}

export interface FleetSimulationRun {
  /** Reports sent beyond the fleet's burst, per second from the first send to the last. */
  readonly goodputPerSecond: number;
  /**
   * The most sends in any 1 s window from 2 s after the first send (the first burst is spent by
   * then) until the first sidecar finished, as the process-level fleet test measures it.
   */
  readonly maxPerSecondSteady: number;
  readonly leases: number;
  readonly sendsPerSecond: readonly number[];
  /** When each sidecar sent its last report, ms after the first send. */
  readonly finishedAtMs: readonly number[];
}

/**
 * Delivery pipelines on fleet limiters, all on one manual clock and sharing one fleet budget
 * (TestFleetStore) the way sidecars share Redis: each gets `reportsPerSidecar` QUEUED reports at
 * once and SWF accepts every call at once. Bounded: gives up after twice the time the fleet's
 * rate needs, and throws if a report was not sent by then.
 */
export async function simulateFleet(options: FleetSimulationOptions): Promise<FleetSimulationRun> {
  const clock = new ManualClock();
  const store = new TestFleetStore(clock, options.fleetRatePerSecond, options.fleetBurst);
  store.latencyMs = options.leaseLatencyMs;
  const limiters = Array.from({ length: options.sidecars }, (_, index) => {
    const random = seededRandom(options.seed + index);
    const limiter = new FleetRateLimiter(
      {
        fleetRatePerSecond: options.fleetRatePerSecond,
        fleetBurst: options.fleetBurst,
        localRatePerSecond: options.local.ratePerSecond,
        localBurst: options.local.burst,
        describe: { redis: 'redis://redis:6379', fleetKey: 'simulation' },
      },
      {
        store,
        local: new LocalRateLimiter(options.local, clock),
        clock,
        random,
        metrics: new FleetMetrics(new Registry()),
        logger: pino({ level: 'silent' }),
      },
    );
    return { limiter, random };
  });
  const joined = Promise.all(limiters.map(({ limiter }) => limiter.start()));
  await clock.advance(options.leaseLatencyMs);
  await joined;

  const sentAtMs: number[] = [];
  const finishedAtMs: number[] = [];
  const sidecars = limiters.map(({ limiter, random }, index) => ({
    fleetLimiter: limiter,
    ...createTestPipeline(
      options.local,
      () => {
        sentAtMs.push(clock.now());
        finishedAtMs[index] = clock.now();
        return DELIVERED;
      },
      { clock, limiter, random },
    ),
  }));
  const firstMs = clock.now();
  for (const { service } of sidecars) {
    for (let i = 0; i < options.reportsPerSidecar; i += 1) void service.submit({ taskToken: `t${i}` }, 'queued');
  }
  const total = options.sidecars * options.reportsPerSidecar;
  const limitMs = 2 * (total / options.fleetRatePerSecond) * 1000;
  while (clock.now() - firstMs < limitMs && sentAtMs.length < total) await clock.advance(100);
  store.latencyMs = 0;
  for (const { fleetLimiter } of sidecars) await fleetLimiter.close();
  if (sentAtMs.length < total) throw new Error(`sent ${sentAtMs.length} of ${total} in ${limitMs} ms`);

  const lastMs = Math.max(...sentAtMs);
  const times = [...sentAtMs].sort((a, b) => a - b);
  const steadyFromMs = firstMs + 2000;
  const steadyToMs = Math.min(...finishedAtMs);
  let busiestSecond = 0;
  for (let start = 0, end = 0; start < times.length; start += 1) {
    const at = times[start]!;
    if (at < steadyFromMs || at + 1000 > steadyToMs) continue;
    end = Math.max(end, start);
    while (end < times.length && times[end]! < at + 1000) end += 1;
    busiestSecond = Math.max(busiestSecond, end - start);
  }
  const sendsPerSecond = new Array<number>(Math.floor((lastMs - firstMs) / 1000) + 1).fill(0);
  for (const at of sentAtMs) sendsPerSecond[Math.floor((at - firstMs) / 1000)]! += 1;
  return {
    goodputPerSecond: ((total - options.fleetBurst) * 1000) / (lastMs - firstMs),
    maxPerSecondSteady: busiestSecond,
    leases: store.requests.length,
    sendsPerSecond,
    finishedAtMs: finishedAtMs.map((at) => at - firstMs),
  };
}
