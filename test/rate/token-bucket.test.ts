import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenBucket } from '../../src/rate/token-bucket.js';

describe('TokenBucket', () => {
  it('starts full and grants at most its capacity at once', () => {
    const bucket = new TokenBucket(10, 5, 0);
    assert.equal(bucket.tryTake(8, 0), 5);
    assert.equal(bucket.tryTake(1, 0), 0);
  });

  it('refills at the rate, fractions accumulating, never above capacity', () => {
    const bucket = new TokenBucket(10, 5, 0);
    bucket.tryTake(5, 0);
    assert.equal(bucket.tryTake(5, 50), 0, 'half a token after 50 ms at 10/s');
    assert.equal(bucket.tryTake(5, 100), 1);
    assert.equal(bucket.tryTake(50, 10_000), 5, 'capped at capacity');
  });

  it('says how long until the next whole token', () => {
    const bucket = new TokenBucket(200, 1, 0);
    bucket.tryTake(1, 0);
    assert.equal(bucket.msUntilToken(0), 5);
    assert.equal(bucket.msUntilToken(2), 3);
    assert.equal(bucket.msUntilToken(5), 0);
  });

  it('grants exactly rate x seconds + capacity over a long run', () => {
    const bucket = new TokenBucket(200, 20, 0);
    let granted = 0;
    for (let t = 0; t <= 10_000; t += 7) granted += bucket.tryTake(1000, t);
    assert.ok(granted >= 20 + 200 * 9.99 && granted <= 20 + 200 * 10, `granted ${granted}`);
  });

  it('drain empties it; setRate keeps earned tokens', () => {
    const bucket = new TokenBucket(10, 5, 0);
    bucket.drain(0);
    assert.equal(bucket.tryTake(1, 0), 0);
    bucket.setRate(100, 0);
    assert.equal(bucket.tryTake(5, 50), 5);
  });

  it('never grants at rate 0 once empty and says so', () => {
    const bucket = new TokenBucket(0, 1, 0);
    assert.equal(bucket.tryTake(1, 0), 1);
    assert.equal(bucket.msUntilToken(1000), Number.POSITIVE_INFINITY);
  });
});
