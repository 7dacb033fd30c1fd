/** What a SlotList's member carries: its place in the list, -1 while it is in none. */
export interface Slotted {
  slot: number;
}

/**
 * A set of objects with O(1) add, remove and membership, in no particular order, that
 * allocates nothing once its array has grown to the most it held. It is for a long-lived
 * collection whose members come and go on every call (the calls in flight), where a Map or a
 * Set would cost old-generation garbage on every call: V8 allocates a Map's new hash table
 * (its rehash, which a Map that gains and loses entries runs every few changes) in the
 * generation of the table it replaces, so a long-lived Map churns tables in the old
 * generation, and each table it drops still points at the entries it held. Until the next
 * mark-compact, the scavenger keeps those entries (young objects) alive through the dropped
 * table, and promotes them: at 1000 calls/s, the sidecar's three such Maps and Node's own were
 * half of its old-generation growth (bench/RESULTS.md, "Old tables of long-lived Maps").
 *
 * The array never shrinks (a removed member's place is overwritten, the vacated last place set
 * to undefined), so it is never reallocated once at its high-water mark. A member is in at most
 * one SlotList at a time, since it has one `slot`.
 */
export class SlotList<T extends Slotted> {
  private readonly members: (T | undefined)[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(member: T): boolean {
    return member.slot >= 0 && member.slot < this.count && this.members[member.slot] === member;
  }

  /** Adds `member`, which must be in no list. */
  add(member: T): void {
    if (member.slot !== -1) throw new Error('already in a SlotList');
    member.slot = this.count;
    this.members[this.count] = member;
    this.count += 1;
  }

  /** Removes `member`; false if it was not here. The last member takes its place. */
  remove(member: T): boolean {
    if (!this.has(member)) return false;
    this.count -= 1;
    const last = this.members[this.count]!;
    this.members[this.count] = undefined;
    if (last !== member) {
      this.members[member.slot] = last;
      last.slot = member.slot;
    }
    member.slot = -1;
    return true;
  }

  /** Removes every member and returns them. */
  takeAll(): T[] {
    const taken: T[] = [];
    for (let i = 0; i < this.count; i++) {
      const member = this.members[i]!;
      member.slot = -1;
      this.members[i] = undefined;
      taken.push(member);
    }
    this.count = 0;
    return taken;
  }

  /** The members now, as a new array (safe to remove members while going through it). */
  toArray(): T[] {
    return this.members.slice(0, this.count) as T[];
  }
}
