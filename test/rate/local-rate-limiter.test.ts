import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LocalRateLimiter } from '../../src/rate/local-rate-limiter.js';
import { ManualClock } from '../support/manual-clock.js';

describe('LocalRateLimiter', () => {
  it('grants the burst, then the rate', async () => {
    const clock = new ManualClock();
    const limiter = new LocalRateLimiter({ ratePerSecond: 100, burst: 10 }, clock);
    assert.equal(limiter.tryAcquire(50), 10);
    assert.equal(limiter.tryAcquire(1), 0);
    assert.equal(limiter.msUntilAvailable(), 10);
    await clock.advance(100);
    assert.equal(limiter.tryAcquire(50), 10);
  });

  it('when SWF throttles most calls, empties the bucket and halves the rate', async () => {
    const clock = new ManualClock();
    const limiter = new LocalRateLimiter({ ratePerSecond: 100, burst: 10 }, clock);
    for (let i = 0; i < 10; i += 1) limiter.onAnswer(true);
    assert.equal(limiter.currentRatePerSecond(), 50);
    assert.equal(limiter.tryAcquire(10), 0, 'the burst SWF refused is not spent again');
    await clock.advance(100);
    assert.equal(limiter.tryAcquire(10), 5);
  });

  it('keeps its burst when only a few answers are throttled', () => {
    const limiter = new LocalRateLimiter({ ratePerSecond: 100, burst: 10 }, new ManualClock());
    limiter.onAnswer(true);
    for (let i = 0; i < 9; i += 1) limiter.onAnswer(false);
    assert.equal(limiter.tryAcquire(10), 10);
  });
});
