import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdaptiveRate } from '../../src/rate/adaptive-rate.js';

/** Feeds `answers` answers spread over one window starting at `startMs`, `throttledShare` of them throttled. */
function feedWindow(rate: AdaptiveRate, startMs: number, answers: number, throttledShare: number): void {
  const throttled = Math.round(answers * throttledShare);
  for (let i = 0; i < answers; i += 1) {
    // Throttles spread evenly, so the early close (half or more throttled) sees the real share.
    const isThrottled = Math.floor(((i + 1) * throttled) / answers) > Math.floor((i * throttled) / answers);
    rate.onAnswer(isThrottled, startMs + (i * 999) / answers);
  }
}

describe('AdaptiveRate', () => {
  it('starts at the configured rate and stays there without throttles', () => {
    const rate = new AdaptiveRate({ maxRatePerSecond: 200 });
    for (let second = 0; second < 5; second += 1) feedWindow(rate, second * 1000, 100, 0);
    assert.equal(rate.rateAt(5000), 200);
  });

  it('halves at once when answers are mostly throttled (early window close)', () => {
    const rate = new AdaptiveRate({ maxRatePerSecond: 200 });
    let closed;
    for (let i = 0; i < 20 && closed === undefined; i += 1) closed = rate.onAnswer(true, 0);
    assert.deepEqual(closed, { throttledShare: 1 });
    assert.equal(rate.rateAt(0), 100);
  });

  it('climbs back linearly by a tenth of the maximum per throttle-free window', () => {
    const rate = new AdaptiveRate({ maxRatePerSecond: 200 });
    for (let i = 0; i < 20; i += 1) rate.onAnswer(true, 0);
    assert.equal(rate.rateAt(0), 100);
    feedWindow(rate, 0, 50, 0);
    assert.equal(rate.rateAt(1000), 120);
    assert.equal(rate.rateAt(3000), 160, 'quiet windows count as throttle-free');
    assert.equal(rate.rateAt(60_000), 200);
  });

  it('settles near half the maximum under a steady 30% of throttles instead of collapsing', () => {
    const rate = new AdaptiveRate({ maxRatePerSecond: 1000 });
    for (let second = 0; second < 60; second += 1) feedWindow(rate, second * 1000, 200, 0.3);
    const settled = rate.rateAt(60_000);
    assert.ok(settled > 400 && settled < 550, `settled at ${settled}/s`);
  });

  it('does not close a window early for a clump of throttles under 80%', () => {
    const rate = new AdaptiveRate({ maxRatePerSecond: 200 });
    for (let i = 0; i < 30; i += 1) assert.equal(rate.onAnswer(i % 4 !== 0, 0), undefined);
    assert.equal(rate.rateAt(0), 200);
  });

  it('never goes below the floor, a twentieth of the maximum by default', () => {
    const rate = new AdaptiveRate({ maxRatePerSecond: 200 });
    for (let second = 0; second < 30; second += 1) feedWindow(rate, second * 1000, 20, 1);
    assert.equal(rate.rateAt(30_000), 10);
    const floored = new AdaptiveRate({ maxRatePerSecond: 200, minRatePerSecond: 5 });
    for (let second = 0; second < 30; second += 1) feedWindow(floored, second * 1000, 20, 1);
    assert.equal(floored.rateAt(30_000), 5);
  });
});
