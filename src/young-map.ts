/** Removals between two rebuilds, and the most entries a rebuild copies. */
const REBUILD_EVERY_REMOVALS = 64;
const REBUILD_AT_MOST_ENTRIES = 64;

/**
 * A Map for a long-lived index whose entries come and go on every call (the reports in flight,
 * by token): while it holds few entries, it is replaced by a copy of itself every 64 removals,
 * so that its hash table stays in V8's young generation.
 *
 * Why: V8 allocates the new hash tables of a Map in the old generation once the Map is old, and
 * each dropped table keeps the entries it held alive until a mark-compact (slot-list.ts has the
 * mechanism; figures in bench/RESULTS.md, "Old tables of long-lived Maps"). A copy made every
 * 64 removals is young, and at any rate where this matters it is replaced before the scavenger
 * promotes it.
 * The copy costs at most one entry's copy a removal (it is made only at 64 entries or fewer);
 * a larger Map (a backlog, whose entries live long anyway) is left as it is.
 */
export class YoungMap<K, V> {
  private map = new Map<K, V>();
  private removals = 0;

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  set(key: K, value: V): void {
    this.map.set(key, value);
  }

  delete(key: K): boolean {
    if (!this.map.delete(key)) return false;
    this.removals += 1;
    if (this.removals >= REBUILD_EVERY_REMOVALS && this.map.size <= REBUILD_AT_MOST_ENTRIES) {
      this.map = new Map(this.map);
      this.removals = 0;
    }
    return true;
  }
}
