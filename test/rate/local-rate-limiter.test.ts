import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LocalRateLimiter } from '../../src/rate/local-rate-limiter.js';
import { ManualClock } from '../support/manual-clock.js';

describe('LocalRateLimiter', () => {
  it('grants the burst less 100 ms of the rate (the arrival-jitter margin), then the rate', async () => {
    const clock = new ManualClock();
    const limiter = new LocalRateLimiter({ ratePerSecond: 100, burst: 100 }, clock);
    assert.equal(limiter.tryAcquire(500), 90);
    assert.equal(limiter.tryAcquire(1), 0);
    assert.equal(limiter.msUntilAvailable(), 10);
    await clock.advance(100);
    assert.equal(limiter.tryAcquire(500), 10);
  });

  it('never lets the margin take more than half the burst', () => {
    const limiter = new LocalRateLimiter({ ratePerSecond: 1000, burst: 10 }, new ManualClock());
    assert.equal(limiter.tryAcquire(500), 5);
  });

  it('grants at most rate x seconds + burst over any stretch', async () => {
    const clock = new ManualClock();
    const limiter = new LocalRateLimiter({ ratePerSecond: 200, burst: 200 }, clock);
    let granted = 0;
    for (let ms = 0; ms < 1000; ms += 5) {
      granted += limiter.tryAcquire(1000);
      await clock.advance(5);
    }
    assert.ok(granted <= 400 - 20, `granted ${granted} in one second`);
  });

  it('when SWF throttles most calls, empties the bucket and halves the rate', async () => {
    const clock = new ManualClock();
    const limiter = new LocalRateLimiter({ ratePerSecond: 100, burst: 100 }, clock);
    for (let i = 0; i < 20; i += 1) limiter.onAnswer(true);
    assert.equal(limiter.currentRatePerSecond(), 50);
    assert.equal(limiter.tryAcquire(10), 0, 'the burst SWF refused is not spent again');
    await clock.advance(100);
    assert.equal(limiter.tryAcquire(10), 5);
  });

  it('keeps its burst when only a few answers are throttled', () => {
    const limiter = new LocalRateLimiter({ ratePerSecond: 100, burst: 100 }, new ManualClock());
    limiter.onAnswer(true);
    for (let i = 0; i < 9; i += 1) limiter.onAnswer(false);
    assert.equal(limiter.tryAcquire(100), 90);
  });
});
