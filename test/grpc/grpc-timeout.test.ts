import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deadlineTimerMs, formatGrpcTimeout, parseGrpcTimeout } from '../../src/grpc/grpc-timeout.js';

describe('parseGrpcTimeout', () => {
  it('reads every unit of the gRPC over HTTP/2 spec', () => {
    assert.equal(parseGrpcTimeout('2H'), 7_200_000);
    assert.equal(parseGrpcTimeout('3M'), 180_000);
    assert.equal(parseGrpcTimeout('20S'), 20_000);
    assert.equal(parseGrpcTimeout('250m'), 250);
    assert.equal(parseGrpcTimeout('1500u'), 1.5);
    assert.equal(parseGrpcTimeout('99999999n'), 99.999999);
  });

  it('refuses anything else, for grpc-js to answer', () => {
    for (const value of ['', 'soon', '10', '123456789S', '-1S', '1.5S', ' 1S', '1 S', '1s', '1SS']) {
      assert.equal(parseGrpcTimeout(value), undefined, value);
    }
  });

  it('arms no timer for a deadline past what setTimeout holds (it would fire at once)', () => {
    assert.equal(deadlineTimerMs(parseGrpcTimeout('99999999m')!), 99_999_999);
    // A 30-day deadline, as clients write it.
    assert.equal(deadlineTimerMs(parseGrpcTimeout('2592000S')!), undefined);
    assert.equal(deadlineTimerMs(parseGrpcTimeout('99999999S')!), undefined);
  });
});

describe('formatGrpcTimeout', () => {
  it('writes milliseconds up to 8 digits, then seconds, then hours, never less than the deadline', () => {
    assert.equal(formatGrpcTimeout(300), '300m');
    assert.equal(formatGrpcTimeout(0.2), '1m');
    assert.equal(formatGrpcTimeout(99_999_999), '99999999m');
    assert.equal(formatGrpcTimeout(100_000_000), '100000S');
    assert.equal(formatGrpcTimeout(1e14), '27777778H');
    assert.equal(formatGrpcTimeout(1e16), '99999999H');
    for (const ms of [1, 999.5, 60_000, 1e8, 1e8 + 1, 1e11, 1e14]) {
      const parsed = parseGrpcTimeout(formatGrpcTimeout(ms));
      assert.ok(parsed !== undefined && parsed >= ms, `${ms} ms: the sidecar reads ${parsed}`);
    }
  });
});
