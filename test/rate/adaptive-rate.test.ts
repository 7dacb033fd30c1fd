import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdaptiveRate } from '../../src/rate/adaptive-rate.js';

describe('AdaptiveRate (AIMD)', () => {
  it('halves on a throttle and ignores further throttles inside the cooldown', () => {
    const rate = new AdaptiveRate({ maxRatePerSecond: 200 });
    assert.equal(rate.rateAt(0), 200);
    assert.equal(rate.onThrottled(0), true);
    assert.equal(rate.rateAt(0), 100);
    assert.equal(rate.onThrottled(500), false);
    assert.equal(rate.rateAt(999), 100);
  });

  it('climbs back linearly after the cooldown, up to the configured rate', () => {
    const rate = new AdaptiveRate({ maxRatePerSecond: 200 });
    rate.onThrottled(0);
    assert.equal(rate.rateAt(1000), 100);
    assert.equal(rate.rateAt(2000), 120);
    assert.equal(rate.rateAt(6000), 200);
    assert.equal(rate.rateAt(60_000), 200);
  });

  it('decreases from the recovered rate, never below the floor', () => {
    const rate = new AdaptiveRate({ maxRatePerSecond: 200, minRatePerSecond: 5 });
    rate.onThrottled(0);
    rate.onThrottled(2000);
    assert.equal(rate.rateAt(2000), 60);
    for (let t = 3000; t < 20_000; t += 1000) rate.onThrottled(t);
    assert.equal(rate.rateAt(20_000), 5);
  });

  it('has a default floor of a twentieth of the configured rate', () => {
    const rate = new AdaptiveRate({ maxRatePerSecond: 200 });
    for (let t = 0; t < 20_000; t += 1000) rate.onThrottled(t);
    assert.equal(rate.rateAt(20_000), 10);
  });
});
