import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentDeliveries } from '../../src/delivery/recent-deliveries.js';

describe('RecentDeliveries', () => {
  it('remembers a token for the TTL, then forgets it', () => {
    const recent = new RecentDeliveries(1000, 10);
    recent.remember('a', 0);
    assert.equal(recent.has('a', 999), true);
    assert.equal(recent.has('b', 999), false);
    assert.equal(recent.has('a', 1000), false);
    assert.equal(recent.size, 0);
  });

  it('keeps at most maxEntries, dropping the oldest', () => {
    const recent = new RecentDeliveries(60_000, 3);
    for (const [i, token] of ['a', 'b', 'c', 'd'].entries()) recent.remember(token, i);
    assert.equal(recent.size, 3);
    assert.equal(recent.has('a', 10), false);
    assert.equal(recent.has('d', 10), true);
  });

  it('is off with a TTL of 0', () => {
    const recent = new RecentDeliveries(0, 10);
    recent.remember('a', 0);
    assert.equal(recent.has('a', 0), false);
  });

  it('does not keep the token itself', () => {
    const recent = new RecentDeliveries(1000, 10);
    recent.remember('secret-token-value', 0);
    assert.doesNotMatch(
      JSON.stringify([...(recent as unknown as { expiresAtByKey: Map<string, number> }).expiresAtByKey.keys()]),
      /secret/,
    );
  });
});
