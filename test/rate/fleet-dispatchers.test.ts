/**
 * Dispatchers and fleet limiters together, on the manual clock (fleet-simulation.ts): 8 delivery
 * pipelines, each on its own FleetRateLimiter, share one fleet budget the way 8 sidecars share
 * Redis, as in the process-level fleet test (test/fleet) but without a machine's noise, so that a
 * change to either part's pacing shows in the fleet's goodput. Goodput is what the process test
 * measures: reports beyond the fleet's burst per second, first send to last, so sidecars that
 * finish far apart (an uneven share, permits stranded in a finished sidecar's pool) cost it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { simulateFleet } from '../support/fleet-simulation.js';

const FLEET_RATE = 200;
const RUNS = 10;
const SIDECARS = 8;
const REPORTS_PER_SIDECAR = 300;

describe('8 dispatchers on fleet limiters sharing one budget', () => {
  for (const leaseLatencyMs of [1, 5]) {
    it(`spend the fleet's rate and no more (leases answered in ${leaseLatencyMs} ms, ${RUNS} seeds)`, async (t) => {
      const runs = [];
      for (let run = 0; run < RUNS; run += 1) {
        runs.push(
          await simulateFleet({
            sidecars: SIDECARS,
            reportsPerSidecar: REPORTS_PER_SIDECAR,
            fleetRatePerSecond: FLEET_RATE,
            fleetBurst: 100,
            local: { ratePerSecond: 200, burst: 50 },
            leaseLatencyMs,
            seed: 1 + run * 100,
          }),
        );
      }
      const goodputs = runs.map((run) => run.goodputPerSecond);
      const mean = goodputs.reduce((sum, goodput) => sum + goodput, 0) / RUNS;
      t.diagnostic(`busiest ${runs.map((run) => run.maxPerSecondSteady).join(' ')}`);
      t.diagnostic(`goodput ${goodputs.map((goodput) => goodput.toFixed(0)).join(' ')} (mean ${mean.toFixed(1)})`);
      assert.ok(mean >= 0.93 * FLEET_RATE, `mean goodput ${mean.toFixed(1)}/s`);
      assert.ok(Math.min(...goodputs) >= 0.88 * FLEET_RATE, `goodput ${Math.min(...goodputs).toFixed(1)}/s`);
      const busiest = Math.max(...runs.map((run) => run.maxPerSecondSteady));
      assert.ok(busiest <= 1.25 * FLEET_RATE, `${busiest} sends in one second`);
      const mostLeases = Math.max(...runs.map((run) => run.leases));
      assert.ok(
        mostLeases <= (SIDECARS * REPORTS_PER_SIDECAR) / 5,
        `${mostLeases} leases (Redis calls) for ${SIDECARS * REPORTS_PER_SIDECAR} sends`,
      );
    });
  }
});
