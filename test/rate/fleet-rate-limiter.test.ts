/**
 * The fleet limiter's lease loop and fallback on the manual clock, against a store the test
 * controls (test-fleet-store.ts).
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { FleetMetrics } from '../../src/metrics.js';
import { FleetRateLimiter, type FleetRateLimiterOptions } from '../../src/rate/fleet-rate-limiter.js';
import { MIN_WAKE_MS } from '../../src/delivery/dispatcher.js';
import { LocalRateLimiter } from '../../src/rate/local-rate-limiter.js';
import { ManualClock } from '../support/manual-clock.js';
import { TestFleetStore } from '../support/test-fleet-store.js';

function setup(
  options: { fleetRate?: number; fleetBurst?: number; localRate?: number; localBurst?: number } = {},
  overrides: Partial<FleetRateLimiterOptions> = {},
) {
  const clock = new ManualClock();
  const fleetRate = options.fleetRate ?? 100;
  const fleetBurst = options.fleetBurst ?? 100;
  const localRate = options.localRate ?? 1000;
  const localBurst = options.localBurst ?? 1000;
  const store = new TestFleetStore(clock, fleetRate, fleetBurst);
  const registry = new Registry();
  const metrics = new FleetMetrics(registry);
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      callback();
    },
  });
  const local = new LocalRateLimiter({ ratePerSecond: localRate, burst: localBurst }, clock);
  const limiter = new FleetRateLimiter(
    {
      fleetRatePerSecond: fleetRate,
      fleetBurst,
      localRatePerSecond: localRate,
      localBurst,
      describe: { redis: 'redis://user:***@redis:6379', fleetKey: 'test' },
      ...overrides,
    },
    { store, local, clock, random: () => 0.5, metrics, logger: pino({ level: 'info' }, sink) },
  );
  const value = async (name: string, labels: Record<string, string> = {}): Promise<number> => {
    const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
    const matching = (metric?.values ?? []).filter((v) =>
      Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l),
    );
    return matching.reduce((sum, v) => sum + v.value, 0);
  };
  const messages = (pattern: RegExp): number => logs.filter((l) => pattern.test(String(l['msg']))).length;
  return { clock, store, limiter, local, value, messages, logs };
}

/**
 * What the dispatcher does: ask for `wanted` whenever told a permit may be there, but no more
 * often than its minimum wake-up while held back. Returns permits granted.
 */
async function drive(clock: ManualClock, limiter: FleetRateLimiter, durationMs: number, wanted = 50): Promise<number> {
  let granted = 0;
  const endMs = clock.now() + durationMs;
  while (clock.now() < endMs) {
    granted += limiter.tryAcquire(wanted);
    await clock.advance(Math.min(endMs - clock.now(), Math.max(MIN_WAKE_MS, limiter.msUntilAvailable())));
  }
  return granted;
}

describe('FleetRateLimiter', () => {
  it('joins with a lease that asks for nothing, then leases on demand and never blocks', async () => {
    const { clock, store, limiter, value, messages } = setup();
    await limiter.start();
    assert.deepEqual(
      store.requests.map(({ intervalMs: _, ...rest }) => rest),
      [{ requested: 0, returned: 0, answers: 0, throttled: 0 }],
    );
    assert.equal(await value('swf_sidecar_fleet_limiter_up'), 1);
    assert.equal(messages(/joined the fleet/), 1);

    store.mode = 'hold';
    assert.equal(limiter.tryAcquire(10), 0, 'no permit yet: the answer is at once, not a wait');
    assert.equal(store.held.length, 1, 'the demand sent a lease at once');
    assert.ok(store.held[0]!.request.requested > 0);
    assert.equal(limiter.msUntilAvailable(), 10, 'poll again shortly while the lease is on its way');
    store.held[0]!.resolve(store.answer(store.held[0]!.request));
    await clock.advance(0);
    assert.ok(limiter.tryAcquire(10) > 0);
  });

  it('gives the first lease, at start-up, longer than the others, and starts on the local limit after it', async () => {
    const { clock, store, limiter, messages } = setup({ localRate: 50, localBurst: 50 });
    store.mode = 'hold';
    let started = false;
    void limiter.start().then(() => (started = true));
    await clock.advance(1999);
    assert.equal(started, false, 'still joining');
    assert.equal(limiter.tryAcquire(10), 0, 'no permit while joining');
    await clock.advance(1);
    assert.equal(started, true);
    assert.equal(limiter.isUp, false);
    assert.equal(messages(/cannot reach Redis/), 1);
    assert.ok(limiter.tryAcquire(10) > 0, 'the local limit grants');
  });

  it("never hands out more than the sidecar's own limiter allows", async () => {
    const { limiter, clock } = setup({ fleetRate: 10_000, fleetBurst: 1000, localRate: 10, localBurst: 10 });
    await limiter.start();
    limiter.tryAcquire(1);
    await clock.advance(0);
    let granted = 0;
    for (let i = 0; i < 10; i++) granted += limiter.tryAcquire(100);
    assert.ok(granted <= 10, `granted ${granted} with a local burst of 10`);
  });

  it('holds a busy sidecar to the fleet rate with about one lease per 20 permits', async () => {
    const { clock, store, limiter, value } = setup({ fleetRate: 200, fleetBurst: 100 });
    await limiter.start();
    const granted = await drive(clock, limiter, 10_000);
    // 10 s at 200/s plus the burst, less what is still held.
    assert.ok(granted <= 100 + 2000, `granted ${granted}`);
    assert.ok(granted >= 0.9 * 2000, `granted ${granted}: the fleet's permits went unused`);
    const leases = store.requests.length;
    assert.ok(leases <= granted / 10, `${leases} leases for ${granted} permits`);
    assert.ok((await value('swf_sidecar_fleet_permits_total', { kind: 'leased' })) >= granted);
    assert.equal(await value('swf_sidecar_fleet_leases_total', { result: 'ok' }), leases);
  });

  it('gives unused permits back when idle, and then only sends a heartbeat every 10 s', async () => {
    const { clock, store, limiter, value } = setup({ fleetRate: 200, fleetBurst: 100 });
    await limiter.start();
    await drive(clock, limiter, 2_000);
    const before = store.requests.length;
    await clock.advance(60_000);
    const idleLeases = store.requests.slice(before);
    assert.ok(idleLeases.length <= 8, `${idleLeases.length} leases in 60 idle seconds`);
    // The first lease after the load still covers its last interval (it was starved then).
    assert.ok(
      idleLeases.slice(1).every((r) => r.requested === 0),
      JSON.stringify(idleLeases),
    );
    const returned = idleLeases.reduce((sum, r) => sum + r.returned, 0);
    assert.equal(await value('swf_sidecar_fleet_permits_held'), 0);
    assert.equal(await value('swf_sidecar_fleet_permits_total', { kind: 'returned' }), returned);
  });

  it('falls back to its local limit at the first failure, logs it once, retries with backoff and rejoins', async () => {
    const { clock, store, limiter, value, messages, logs } = setup({ localRate: 50, localBurst: 50 });
    await limiter.start();
    store.mode = 'fail';
    await drive(clock, limiter, 1_000);
    assert.equal(limiter.isUp, false);
    assert.equal(await value('swf_sidecar_fleet_limiter_up'), 0);
    assert.equal(await value('swf_sidecar_fleet_fallbacks_total'), 1);
    // On the local limit now: the local bucket's grants.
    await clock.advance(1000);
    assert.ok(limiter.tryAcquire(100) >= 40, 'the local limit grants while Redis is down');
    const failedBefore = store.requests.length;
    await drive(clock, limiter, 60_000, 1);
    const retries = store.requests.length - failedBefore;
    assert.ok(retries >= 5 && retries <= 30, `${retries} tries in 60 s (backoff up to 5 s)`);
    assert.equal(messages(/cannot reach Redis/), 1, 'logged once per outage');
    assert.ok(!JSON.stringify(logs).includes('secret'));
    assert.ok((await value('swf_sidecar_fleet_redis_errors_total', { kind: 'connection' })) >= retries);

    store.mode = 'auto';
    await drive(clock, limiter, 10_000, 1);
    assert.equal(limiter.isUp, true);
    assert.equal(await value('swf_sidecar_fleet_limiter_up'), 1);
    assert.equal(messages(/Redis is back/), 1);
  });

  it('falls back when Redis does not answer in time, and gives back what a late answer granted', async () => {
    const { clock, store, limiter } = setup({}, { leaseTimeoutMs: 500 });
    await limiter.start();
    store.mode = 'hold';
    limiter.tryAcquire(10);
    assert.equal(limiter.isUp, true);
    await clock.advance(500);
    assert.equal(limiter.isUp, false, 'fell back within the lease timeout');
    assert.ok(limiter.tryAcquire(10) > 0, 'the local limit grants at once');
    const late = store.held.shift()!;
    store.mode = 'auto';
    late.resolve({ granted: 7, fleetRatePerSecond: 100, fleetTokens: 0, fresh: false, sidecarsSharing: 0 });
    await clock.advance(1000);
    assert.equal(limiter.isUp, true, 'an answer, even late, shows Redis is back');
    const next = store.requests.at(-1)!;
    assert.ok(
      store.requests.some((r) => r.returned >= 7),
      `the late permits went back: ${JSON.stringify(next)}`,
    );
  });

  it('reports throttled answers at once, so the fleet slows down together', async () => {
    const { clock, store, limiter } = setup();
    await limiter.start();
    await drive(clock, limiter, 1000);
    // Idle now: only the heartbeat would lease, every 10 s.
    await clock.advance(30_000);
    store.mode = 'hold';
    for (let i = 0; i < 4; i++) limiter.onAnswer(true);
    assert.equal(store.held.length, 0, 'a few throttles wait for the next lease');
    limiter.onAnswer(true);
    assert.equal(store.held.length, 1, 'the fifth goes at once');
    assert.equal(store.held[0]!.request.throttled, 5);
    assert.equal(store.held[0]!.request.answers, 5);
  });

  it('tells the dispatcher when a lease lands or it falls back, and leases no more than its backlog', async () => {
    const { clock, store, limiter } = setup({ localRate: 50, localBurst: 50 }, { leaseTimeoutMs: 500 });
    let backlog = 3;
    let told = 0;
    limiter.attach({ backlog: () => backlog, permitsArrived: () => (told += 1) });
    await limiter.start();
    assert.equal(told, 0, 'the join brings no permits');

    store.mode = 'hold';
    assert.equal(limiter.tryAcquire(3), 0);
    const lease = store.held.shift()!;
    assert.equal(lease.request.requested, 3, 'starved with 3 waiting: asks for 3, not its ceiling');
    lease.resolve(store.answer(lease.request));
    await clock.advance(0);
    assert.equal(told, 1, 'the lease landed: the dispatcher need not wait for its next look');
    assert.equal(limiter.tryAcquire(3), 3);

    backlog = 40;
    await clock.advance(100);
    assert.equal(limiter.tryAcquire(10), 0);
    assert.equal(store.held.length, 1, 'starved again, with permits to spare in the fleet: leases at once');
    await clock.advance(500);
    assert.equal(limiter.isUp, false);
    assert.equal(told, 2, 'fell back to the local limit: permits at once');
    assert.ok(limiter.tryAcquire(10) > 0);
  });

  it("sends at the lower of its own and the fleet's rate, as the metric shows", async () => {
    const { store, limiter } = setup({ localRate: 100 });
    store.fleetRate = 40;
    await limiter.start();
    assert.equal(limiter.currentRatePerSecond(), 40);
  });

  it('gives its permits back when closed', async () => {
    const { clock, store, limiter } = setup();
    await limiter.start();
    limiter.tryAcquire(1);
    await clock.advance(0);
    limiter.tryAcquire(1);
    await limiter.close();
    assert.ok(store.requests.at(-1)!.returned > 0);
    assert.equal(store.closed, true);
  });
});
