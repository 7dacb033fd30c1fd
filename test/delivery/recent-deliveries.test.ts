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
    for (const value of Object.values(recent)) {
      assert.notEqual(typeof value, 'string');
      if (ArrayBuffer.isView(value)) {
        assert.equal(Buffer.from(value.buffer, value.byteOffset, value.byteLength).includes('secret'), false);
      }
    }
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
    assert.equal(recent.size, 1);
    assert.equal(recent.has('again', 1400), true);
    assert.equal(recent.has('again', 1500), false);
    const filter = (recent as unknown as { filter: Uint32Array }).filter;
    assert.equal(
      filter.every((count) => count === 0),
      true,
    );
  });

  it('answers as a plain list of places would, through growth, wrap-around and eviction', () => {
    // The model: places in insertion order; a token remembered again leaves its old place empty
    // until that place is the oldest. A seeded generator, so a failure replays. Tokens alike but
    // for their last characters share sampled fingerprints, as the bench's and one issuer's may.
    let seed = 42;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (const [ttlMs, maxEntries, tokens] of [
      [500, 7, 20],
      [2000, 1500, 4000],
      [300, 3000, 2500],
    ] as const) {
      const recent = new RecentDeliveries(ttlMs, maxEntries);
      const places: { token: string; expiresAtMs: number; empty: boolean }[] = [];
      const evict = (nowMs: number): void => {
        while (places[0] !== undefined && (places[0].empty || places[0].expiresAtMs <= nowMs)) places.shift();
      };
      let nowMs = 0;
      for (let step = 0; step < 20_000; step++) {
        nowMs += random(3);
        const token = `${'AAAAKgAAAAEAAAAA'.repeat(8)}-${random(tokens)}`;
        evict(nowMs);
        const known = places.find((place) => !place.empty && place.token === token);
        if (random(3) === 0) {
          recent.remember(token, nowMs);
          if (known !== undefined) known.empty = true;
          if (places.length === maxEntries) places.shift();
          places.push({ token, expiresAtMs: nowMs + ttlMs, empty: false });
        } else {
          assert.equal(recent.has(token, nowMs), known !== undefined, `step ${step} of ${maxEntries}`);
        }
        assert.equal(recent.size, places.filter((place) => !place.empty).length, `size at step ${step}`);
      }
    }
  });
});
