import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LeasePlanner } from '../../src/rate/lease-planner.js';

const planner = (): LeasePlanner =>
  new LeasePlanner({ localRatePerSecond: 100, localBurst: 100, fleetRatePerSecond: 200, fleetBurst: 200 });

describe('LeasePlanner', () => {
  it('asks for nothing and gives everything back when nothing was used or wanted', () => {
    const plan = planner().plan({ nowMs: 0, pool: 7.5, consumed: 0, starved: false });
    assert.deepEqual(
      { ...plan, intervalMs: undefined },
      {
        requested: 0,
        returned: 7,
        idle: true,
        starved: false,
        intervalMs: undefined,
      },
    );
  });

  it('while starved, asks for its fair share until a little past its next lease', () => {
    const plan = planner().plan({
      nowMs: 0,
      pool: 0,
      consumed: 10,
      starved: true,
      fleet: { ratePerSecond: 200, sidecarsSharing: 8, spare: false },
    });
    assert.equal(plan.intervalMs, 500, '10 permits of a 25/s share take 400 ms: the 500 ms floor');
    assert.equal(plan.requested, Math.ceil(25 * 0.5 * 1.25));
  });

  it('asks for its ceiling when the fleet had permits to spare', () => {
    const plan = planner().plan({
      nowMs: 0,
      pool: 0,
      consumed: 10,
      starved: true,
      fleet: { ratePerSecond: 200, sidecarsSharing: 8, spare: true },
    });
    assert.equal(plan.requested, Math.ceil(100 * 0.5 * 1.25));
  });

  it('while starved, asks for no more than the reports waiting, so a finishing sidecar strands no permits', () => {
    const starved = { nowMs: 0, consumed: 10, starved: true } as const;
    const spare = { ratePerSecond: 200, sidecarsSharing: 8, spare: true };
    assert.equal(planner().plan({ ...starved, pool: 0, backlog: 12, fleet: spare }).requested, 12);
    assert.equal(planner().plan({ ...starved, pool: 5, backlog: 12, fleet: spare }).requested, 7);
    assert.equal(
      planner().plan({ ...starved, pool: 0, backlog: 0, fleet: spare }).requested,
      1,
      'one, for what comes next',
    );
    const share = { ...spare, spare: false };
    assert.equal(
      planner().plan({ ...starved, pool: 0, backlog: 500, fleet: share }).requested,
      Math.ceil(25 * 0.5 * 1.25),
    );
    const enough = { nowMs: 0, pool: 0, consumed: 10, starved: false } as const;
    assert.equal(
      planner().plan({ ...enough, backlog: 0 }).requested,
      planner().plan(enough).requested,
      'with enough permits, the recent use decides, not the backlog of the moment',
    );
  });

  it('leases more slowly as the fair share shrinks, so a large fleet leases no faster than its permits come', () => {
    const interval = (sidecars: number): number =>
      planner().plan({
        nowMs: 0,
        pool: 0,
        consumed: 1,
        starved: true,
        fleet: { ratePerSecond: 200, sidecarsSharing: sidecars, spare: false },
      }).intervalMs;
    assert.equal(interval(8), 500);
    assert.equal(interval(100), 5000, '2/s each: 10 permits take 5 s');
    assert.equal(interval(1000), 5000, 'never longer than 5 s');
    assert.equal(interval(40), 2000);
  });

  it('with enough permits, leases about every 20 permits of what it is granted, between 100 ms and 1 s', () => {
    const p = planner();
    p.plan({ nowMs: 0, pool: 0, consumed: 1, starved: false });
    for (let t = 1000; t <= 8000; t += 1000) p.onGranted(10, t);
    assert.equal(p.intervalMs(), 1000, 'about 10/s granted: once a second');
    const busy = planner();
    for (let t = 100; t <= 1000; t += 100) busy.onGranted(40, t);
    assert.ok(busy.intervalMs() >= 100 && busy.intervalMs() <= 110, `${busy.intervalMs()} ms at 400/s`);
  });

  it('gives back what it holds beyond twice its need', () => {
    const p = planner();
    p.plan({ nowMs: 0, pool: 0, consumed: 1, starved: false });
    const plan = p.plan({ nowMs: 1000, pool: 90, consumed: 10, starved: false });
    assert.equal(plan.requested, 0);
    assert.ok(plan.returned > 0 && plan.returned < 90, `returned ${plan.returned}`);
  });
});
