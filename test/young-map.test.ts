import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { YoungMap } from '../src/young-map.js';

describe('YoungMap', () => {
  it('answers as a Map through many rebuilds, small and large', () => {
    let seed = 11;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const map = new YoungMap<string, number>();
    const model = new Map<string, number>();
    // Keys from a small range (a few live entries, rebuilt often), then a wide one (a backlog of
    // hundreds, never rebuilt), then small again.
    for (const [steps, keys] of [
      [20_000, 40],
      [20_000, 2_000],
      [20_000, 40],
    ] as const) {
      for (let step = 0; step < steps; step++) {
        const key = `token-${Math.floor(random() * keys)}`;
        const roll = random();
        if (roll < 0.45) {
          map.set(key, step);
          model.set(key, step);
        } else if (roll < 0.9) {
          assert.equal(map.delete(key), model.delete(key));
        } else {
          assert.equal(map.get(key), model.get(key));
        }
        assert.equal(map.size, model.size);
      }
      for (const [key, value] of model) assert.equal(map.get(key), value);
    }
    assert.equal(map.delete('never-set'), false);
  });
});
