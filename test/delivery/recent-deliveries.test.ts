import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fingerprint, RecentDeliveries } from '../../src/delivery/recent-deliveries.js';

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
      JSON.stringify([...(recent as unknown as { entryByKey: Map<string, unknown> }).entryByKey.keys()]),
      /secret/,
    );
  });

  it('tells apart tokens whose sampled fingerprints collide', () => {
    // 1,000 characters: the fingerprint samples every 20th, so the first one is not among them.
    const token = 'A' + 'x'.repeat(999);
    const twin = 'B' + 'x'.repeat(999);
    assert.equal(fingerprint(token), fingerprint(twin));
    assert.notEqual(fingerprint(token), fingerprint('x'.repeat(999) + 'A'));
    const recent = new RecentDeliveries(1000, 10);
    recent.remember(token, 0);
    assert.equal(recent.has(token, 1), true);
    assert.equal(recent.has(twin, 1), false);
  });

  it('forgets a fingerprint with the last entry that had it', () => {
    const recent = new RecentDeliveries(1000, 10);
    recent.remember('again', 0);
    recent.remember('again', 500);
    assert.equal(recent.has('again', 1400), true);
    assert.equal(recent.has('again', 1500), false);
    const counts = (recent as unknown as { fingerprintCounts: Map<number, number> }).fingerprintCounts;
    assert.equal(counts.size, 0);
  });
});
