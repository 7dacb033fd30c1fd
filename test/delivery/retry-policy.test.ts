import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideRetry, fullJitterDelayMs } from '../../src/delivery/retry-policy.js';

const backoff = { baseDelayMs: 100, maxDelayMs: 1000 };

describe('full jitter backoff', () => {
  it('draws uniformly below a doubling ceiling that stops at the max', () => {
    const almostOne = () => 0.999_999;
    assert.deepEqual(
      [1, 2, 3, 4, 5, 10].map((retry) => fullJitterDelayMs(retry, backoff, almostOne)),
      [99, 199, 399, 799, 999, 999],
    );
    assert.equal(
      fullJitterDelayMs(3, backoff, () => 0),
      0,
    );
    assert.equal(
      fullJitterDelayMs(3, backoff, () => 0.5),
      200,
    );
  });
});

describe('decideRetry', () => {
  const budget = { maxAttempts: 3, maxElapsedMs: 500 };
  it('retries while attempts and elapsed time allow', () => {
    assert.deepEqual(
      decideRetry(1, 0, budget, backoff, () => 0.5),
      { retry: true, delayMs: 50 },
    );
    assert.deepEqual(
      decideRetry(2, 100, budget, backoff, () => 0.5),
      { retry: true, delayMs: 100 },
    );
  });
  it('stops at max attempts', () => {
    assert.deepEqual(
      decideRetry(3, 0, budget, backoff, () => 0),
      { retry: false },
    );
  });
  it('stops when the next wait would pass the elapsed budget', () => {
    assert.deepEqual(
      decideRetry(2, 450, budget, backoff, () => 0.9),
      { retry: false },
    );
    assert.deepEqual(
      decideRetry(2, 450, budget, backoff, () => 0.1),
      { retry: true, delayMs: 20 },
    );
  });
});
