/**
 * The fleet test of issue 10: 8 sidecar processes, one real Redis, and a fake SWF whose account
 * bucket (300, refilled at 200/s) is far below the sum of the sidecars' own limits (8 × 200/s,
 * burst 8 × 50). The control runs first, without the shared budget: every sidecar keeps to its
 * own limit and SWF throttles heavily. Then the same load through the fleet limiter (fleet rate
 * 200/s, the account's refill, and burst 100): SWF throttles at most 2% of calls, goodput is at
 * least 0.9x the fleet rate, no 1-second window after the first burst goes above the fleet rate
 * plus a small margin, no 2-second window holds more than the fleet's burst and two seconds of
 * its rate (plus that margin), and every report reaches SWF exactly once. Needs `npm run build`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeSwf } from '../support/fake-swf.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { acceptedMoreThanOnce } from '../robustness/robustness-support.js';
import { figures, fleetSum, sendQueued, startFleet, untilAllAccepted, untilAllJoined } from './fleet-support.js';

const SIDECARS = 8;
const REPORTS_PER_SIDECAR = 300;
const ACCOUNT_BUCKET = 300;
const ACCOUNT_REFILL_PER_SECOND = 200;
/**
 * Each sidecar's own limit: as high as the fleet's rate, so that the last sidecars still busy at
 * the end of the run may take all of it (a lower ceiling would make the run's tail, not the
 * limiter, decide the goodput).
 */
const LOCAL = { SWF_SIDECAR_RATE_PER_SECOND: '200', SWF_SIDECAR_BURST: '50' };
const FLEET_RATE = 200;
const FLEET_BURST = 100;
/**
 * A window of SWF arrivals may hold a little more than one second of grants: a sidecar spends
 * its permits evenly at the rate the fleet grants it, so calls reach SWF some time after Redis
 * granted them, and the fake reads them on this test's event loop, on a machine shared with 8
 * sidecars and other tests (the chaos test allows 10% for that observer lag alone). 25% of the
 * rate is allowed: measured 1.08x to 1.19x on a loaded 2-core machine, against several times the
 * rate in the control.
 */
const WINDOW_MARGIN = 0.25;
/** Retry settings that keep the control short: throttled reports come back soon. */
const RETRIES = {
  SWF_SIDECAR_RETRY_BASE_DELAY_MS: '50',
  SWF_SIDECAR_RETRY_MAX_DELAY_MS: '1000',
};

describe('a fleet of 8 sidecars sharing one account quota through Redis', () => {
  let fake: FakeSwf;
  let redis: RedisServer;

  before(async () => {
    fake = await FakeSwf.start();
    redis = await startRedisServer();
  });
  after(async () => {
    await fake?.close();
    await redis?.stop();
  });

  it(
    'control without the shared budget: SWF throttles heavily; with it: ≤ 2% throttled, ≥ 0.9x goodput, exactly once',
    { timeout: 110_000 },
    async (t) => {
      // Control: every sidecar on its own limit.
      const control = await startFleet(SIDECARS, { AWS_ENDPOINT_URL_SWF: fake.url, ...LOCAL, ...RETRIES });
      let controlFigures;
      try {
        fake.configure({ bucketSize: ACCOUNT_BUCKET, refillPerSecond: ACCOUNT_REFILL_PER_SECOND });
        fake.reset();
        const tokens = await sendQueued(control, 'control', REPORTS_PER_SIDECAR);
        await untilAllAccepted(fake, tokens, 60_000);
        controlFigures = figures(fake.calls, ACCOUNT_BUCKET);
      } finally {
        await control.stop();
      }
      t.diagnostic(`control: ${JSON.stringify(controlFigures)}`);
      assert.ok(
        controlFigures.throttledShare >= 0.1,
        `the control should overrun the quota: ${(controlFigures.throttledShare * 100).toFixed(1)}% throttled`,
      );

      // The same load through the shared budget.
      const fleet = await startFleet(SIDECARS, {
        AWS_ENDPOINT_URL_SWF: fake.url,
        ...LOCAL,
        ...RETRIES,
        SWF_SIDECAR_REDIS_URL: redis.url,
        SWF_SIDECAR_FLEET_RATE_PER_SECOND: String(FLEET_RATE),
        SWF_SIDECAR_FLEET_BURST: String(FLEET_BURST),
        SWF_SIDECAR_FLEET_KEY: 'fleet-test',
      });
      try {
        await untilAllJoined(fleet);
        fake.configure({ bucketSize: ACCOUNT_BUCKET, refillPerSecond: ACCOUNT_REFILL_PER_SECOND });
        fake.reset();
        const tokens = await sendQueued(fleet, 'fleet', REPORTS_PER_SIDECAR);
        await untilAllAccepted(fake, tokens, 60_000);
        const run = figures(fake.calls, FLEET_BURST);
        const leases = await fleetSum(fleet, 'swf_sidecar_fleet_leases_total');
        const failedLeases = await fleetSum(fleet, 'swf_sidecar_fleet_leases_total', { result: 'failed' });
        const delivered = await fleetSum(fleet, 'swf_sidecar_deliveries_total', { result: 'delivered' });
        t.diagnostic(
          `fleet: ${JSON.stringify(run)}; ${leases} leases (Redis calls, ${failedLeases} failed) for ${run.calls} SWF calls`,
        );
        const t0 = Math.min(...fake.calls.map((c) => c.atMs));
        const perQuarter = new Array<number>(Math.ceil(run.durationMs / 250) + 1).fill(0);
        for (const call of fake.calls) perQuarter[Math.floor((call.atMs - t0) / 250)]! += 1;
        t.diagnostic(`calls per 250 ms: ${perQuarter.join(' ')}`);

        assert.ok(run.throttledShare <= 0.02, `${(run.throttledShare * 100).toFixed(1)}% of SWF calls throttled`);
        assert.ok(
          run.goodputPerSecond >= 0.9 * FLEET_RATE,
          `goodput ${run.goodputPerSecond.toFixed(1)}/s, ${(run.goodputPerSecond / FLEET_RATE).toFixed(2)}x the fleet rate`,
        );
        assert.ok(
          run.maxCallsPerSecondSteady <= Math.ceil(FLEET_RATE * (1 + WINDOW_MARGIN)),
          `${run.maxCallsPerSecondSteady} calls in one second after the first burst, fleet rate ${FLEET_RATE}`,
        );
        assert.ok(
          run.maxCallsInTwoSeconds <= Math.ceil((FLEET_BURST + 2 * FLEET_RATE) * (1 + WINDOW_MARGIN)),
          `${run.maxCallsInTwoSeconds} calls in two seconds: more than the fleet's rate and burst (${failedLeases} leases failed)`,
        );
        assert.deepEqual(acceptedMoreThanOnce(fake), [], 'a report SWF accepted twice');
        assert.equal(run.accepted, tokens.length, 'every report accepted exactly once');
        assert.equal(delivered, tokens.length);
        assert.ok(leases <= run.calls / 5, `${leases} Redis calls for ${run.calls} SWF calls`);
      } finally {
        await fleet.stop();
      }
    },
  );
});
