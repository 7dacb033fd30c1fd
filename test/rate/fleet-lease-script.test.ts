/**
 * The fleet's lease script (src/rate/fleet-lease-script.ts) run by a real redis-server, through
 * the real store. Time in Redis is its own clock, so instead of waiting, tests move the stored
 * timestamps back (the same as that much time passing) and check what a lease then grants.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { fleetRedisKey } from '../../src/rate/fleet-lease-script.js';
import type { LeaseRequest } from '../../src/rate/fleet-store.js';
import { RedisFleetStore } from '../../src/rate/redis-fleet-store.js';
import { parseRedisUrl, type RedisEndpoint } from '../../src/rate/redis-url.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

const ask = (requested: number, more: Partial<LeaseRequest> = {}): LeaseRequest => ({
  requested,
  returned: 0,
  answers: 0,
  throttled: 0,
  intervalMs: 500,
  ...more,
});

function near(actual: number, expected: number, message?: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-9, `${message ?? 'value'}: ${actual}, expected ${expected}`);
}

function endpointOf(url: string): RedisEndpoint {
  const endpoint = parseRedisUrl(url);
  assert.ok(!('error' in endpoint));
  return endpoint;
}

describe('fleet lease script, on a real Redis', () => {
  let redis: RedisServer;
  let admin: Redis;
  const stores: RedisFleetStore[] = [];
  let keyCounter = 0;
  let fleetKey: string;

  const store = (options: { rate?: number; burst?: number; key?: string } = {}): RedisFleetStore => {
    const created = new RedisFleetStore({
      endpoint: endpointOf(redis.url),
      fleetKey: options.key ?? fleetKey,
      fleetRatePerSecond: options.rate ?? 100,
      fleetBurst: options.burst ?? 50,
      random: () => 0.5,
    });
    stores.push(created);
    return created;
  };
  /** Moves the bucket's clock and window back by `ms`: as if that much time had passed. */
  const age = async (ms: number): Promise<void> => {
    const key = fleetRedisKey(fleetKey);
    const [ts, win] = await admin.hmget(key, 'ts', 'win');
    await admin.hset(key, 'ts', String(Number(ts) - ms * 1000), 'win', String(Number(win) - ms * 1000));
  };

  before(async () => {
    redis = await startRedisServer();
    admin = new Redis(redis.url);
  });
  beforeEach(() => {
    fleetKey = `test-${++keyCounter}`;
  });
  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    admin?.disconnect();
    await redis?.stop();
  });

  it('starts a full bucket for a new key, says so once, and grants no more than it holds', async () => {
    const s = store({ rate: 0.001, burst: 50 });
    const first = await s.lease(ask(30));
    assert.equal(first.granted, 30);
    assert.equal(first.fresh, true);
    assert.equal(first.fleetRatePerSecond, 0.001);
    const second = await s.lease(ask(30));
    assert.equal(second.granted, 20);
    assert.equal(second.fresh, false);
    assert.equal((await s.lease(ask(1))).granted, 0);
    const ttl = await admin.pttl(fleetRedisKey(fleetKey));
    assert.ok(ttl > 0 && ttl <= 100_000_000, `a TTL so an abandoned fleet's state goes away: ${ttl}`);
  });

  it('refills at the fleet rate by Redis time, up to the burst', async () => {
    const s = store({ rate: 100, burst: 50 });
    assert.equal((await s.lease(ask(50))).granted, 50);
    await age(200);
    const after200ms = await s.lease(ask(100));
    // 200 ms at 100/s, plus what the real microseconds between the calls added.
    assert.ok(after200ms.granted >= 20 && after200ms.granted <= 22, `granted ${after200ms.granted}`);
    await age(10_000);
    assert.equal((await s.lease(ask(1000))).granted, 50, 'never more than the burst');
  });

  it('takes returned permits back, never beyond the burst', async () => {
    const s = store({ rate: 0.001, burst: 50 });
    assert.equal((await s.lease(ask(50))).granted, 50);
    assert.equal((await s.lease(ask(0, { returned: 10 }))).granted, 0);
    assert.equal((await s.lease(ask(100))).granted, 10);
    await s.lease(ask(0, { returned: 500 }));
    assert.equal((await s.lease(ask(100))).granted, 50);
  });

  it('grants each permit once when many sidecars lease at the same moment', async () => {
    const sidecars = Array.from({ length: 8 }, () => store({ rate: 0.001, burst: 100 }));
    const replies = await Promise.all(sidecars.flatMap((s) => Array.from({ length: 40 }, () => s.lease(ask(1)))));
    assert.equal(
      replies.reduce((sum, r) => sum + r.granted, 0),
      100,
    );
  });

  it('shares one adaptive rate: a mostly throttled window halves it and empties the bucket for everyone', async () => {
    const a = store({ rate: 100, burst: 50 });
    const b = store({ rate: 100, burst: 50 });
    await a.lease(ask(0));
    const reported = await a.lease(ask(10, { answers: 20, throttled: 18 }));
    // share 0.9: 100 × (1 − 0.45) + 10 × 0.1 = 56
    near(reported.fleetRatePerSecond, 56);
    assert.equal(reported.granted, 0, 'the burst SWF refused is not spent again');
    const other = await b.lease(ask(10));
    near(other.fleetRatePerSecond, 56, 'another sidecar sees the same rate');
    assert.ok(other.granted <= 1, `granted ${other.granted} right after the drain`);
  });

  it('adds up answers from several sidecars over a window, and recovers by a tenth per quiet window', async () => {
    const a = store({ rate: 200, burst: 50 });
    const b = store({ rate: 200, burst: 50 });
    await a.lease(ask(0, { answers: 10, throttled: 3 }));
    await b.lease(ask(0, { answers: 10, throttled: 3 }));
    await age(1000);
    // The window closed with 6 of 20 throttled (30%): 200 × 0.85 + 20 × 0.7 = 184.
    const closed = await a.lease(ask(0));
    near(closed.fleetRatePerSecond, 184);
    await age(1000);
    assert.equal((await b.lease(ask(0))).fleetRatePerSecond, 200, 'a quiet window climbs back (capped at the max)');
  });

  it('counts the sidecars that lease, whatever their pace, from the intervals they report', async () => {
    const s = store({ rate: 200, burst: 50 });
    await s.lease(ask(0));
    // Within one window: two sidecars leasing every 500 ms (twice each), one every 250 ms (four
    // times), one every 5 s (once, as it does in one window out of five: 5 s). Idle heartbeats
    // (requested 0) do not count.
    for (let i = 0; i < 4; i++) await s.lease(ask(1, { intervalMs: 500 }));
    for (let i = 0; i < 4; i++) await s.lease(ask(1, { intervalMs: 250 }));
    await s.lease(ask(0, { intervalMs: 10_000 }));
    await age(1000);
    near((await s.lease(ask(0))).sidecarsSharing, 3);
    await s.lease(ask(1, { intervalMs: 5000 }));
    await age(1000);
    near((await s.lease(ask(0))).sidecarsSharing, 5);
  });

  it('never goes below a twentieth of the fleet rate', async () => {
    const s = store({ rate: 200, burst: 50 });
    for (let i = 0; i < 12; i++) await s.lease(ask(0, { answers: 20, throttled: 20 }));
    near((await s.lease(ask(0))).fleetRatePerSecond, 10);
  });

  it('keeps fleets with different keys apart', async () => {
    const a = store({ rate: 0.001, burst: 10, key: `${fleetKey}-a` });
    const b = store({ rate: 0.001, burst: 10, key: `${fleetKey}-b` });
    assert.equal((await a.lease(ask(10))).granted, 10);
    assert.equal((await b.lease(ask(10))).granted, 10);
  });

  it('starts over, script cache included, after Redis lost everything', async () => {
    const s = store({ rate: 0.001, burst: 10 });
    assert.equal((await s.lease(ask(10))).granted, 10);
    await admin.flushall();
    await admin.script('FLUSH');
    const again = await s.lease(ask(10));
    assert.equal(again.fresh, true);
    assert.equal(again.granted, 10);
  });
});
