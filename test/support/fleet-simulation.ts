import { pino } from 'pino';
import { Registry } from 'prom-client';
import { FleetMetrics } from '../../src/metrics.js';
import { FleetRateLimiter } from '../../src/rate/fleet-rate-limiter.js';
import { LocalRateLimiter } from '../../src/rate/local-rate-limiter.js';
import { busiestWindow } from './busiest-window.js';
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
  /** Leases sent to the store (Redis calls). */
  readonly leases: number;
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
  return {
    goodputPerSecond: ((total - options.fleetBurst) * 1000) / (lastMs - firstMs),
    maxPerSecondSteady: busiestWindow(sentAtMs, 1000, firstMs + 2000, Math.min(...finishedAtMs)),
    leases: store.requests.length,
  };
}
