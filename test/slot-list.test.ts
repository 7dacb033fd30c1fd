import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SlotList } from '../src/slot-list.js';

class Member {
  slot = -1;
  constructor(readonly name: string) {}
}

const names = (list: SlotList<Member>): string[] =>
  list
    .toArray()
    .map((m) => m.name)
    .sort();

describe('SlotList', () => {
  it('adds, removes from any place, and says who is in it', () => {
    const list = new SlotList<Member>();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((name) => new Member(name)) as [Member, Member, Member, Member];
    for (const m of [a, b, c]) list.add(m);
    assert.equal(list.size, 3);
    assert.ok(list.remove(a)); // the first place: the last member moves into it
    assert.equal(a.slot, -1);
    assert.deepEqual(names(list), ['b', 'c']);
    assert.ok(list.has(b) && list.has(c) && !list.has(a) && !list.has(d));
    assert.equal(list.remove(a), false);
    assert.equal(list.remove(d), false);
    list.add(d);
    assert.ok(list.remove(d)); // the last place
    assert.ok(list.remove(c));
    assert.deepEqual(names(list), ['b']);
    list.add(a);
    assert.deepEqual(names(list), ['a', 'b']);
  });

  it('takeAll empties it and frees every member to join again', () => {
    const list = new SlotList<Member>();
    const members = ['a', 'b', 'c'].map((name) => new Member(name));
    for (const m of members) list.add(m);
    assert.deepEqual(
      list
        .takeAll()
        .map((m) => m.name)
        .sort(),
      ['a', 'b', 'c'],
    );
    assert.equal(list.size, 0);
    assert.ok(members.every((m) => m.slot === -1 && !list.has(m)));
    list.add(members[1]!);
    assert.deepEqual(names(list), ['b']);
  });

  it('refuses a member already in a list, and does not take one from another list', () => {
    const first = new SlotList<Member>();
    const second = new SlotList<Member>();
    const m = new Member('m');
    const n = new Member('n');
    first.add(n);
    first.add(m); // slot 1
    assert.throws(() => second.add(m), /already in a SlotList/);
    second.add(new Member('x'));
    second.add(new Member('y')); // second also has a slot 1, holding y
    assert.equal(second.has(m), false);
    assert.equal(second.remove(m), false);
    assert.ok(first.has(m));
  });

  it('matches a Set through a seeded run of adds and removes', () => {
    let seed = 7;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const list = new SlotList<Member>();
    const model = new Set<Member>();
    const pool = Array.from({ length: 20 }, (_, i) => new Member(String(i)));
    for (let step = 0; step < 5_000; step++) {
      const m = pool[Math.floor(random() * pool.length)]!;
      if (model.has(m)) {
        assert.ok(list.remove(m));
        model.delete(m);
      } else {
        list.add(m);
        model.add(m);
      }
      assert.equal(list.size, model.size);
    }
    assert.deepEqual(names(list), [...model].map((m) => m.name).sort());
    for (const m of pool) assert.equal(list.has(m), model.has(m));
  });
});
