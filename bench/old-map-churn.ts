/**
 * Not one of the graded measurements: the minimal program behind src/slot-list.ts and
 * src/young-map.ts. A collection that lives long (in V8's old generation) gains and loses one
 * member per "call", as the sidecar's calls in flight do; printed: old-space bytes allocated a
 * call (live after, so garbage for a mark-compact to clear), for a Map, a Map replaced by a young
 * copy every 64 removals (YoungMap), and a SlotList.
 *
 *   node --expose-gc --import tsx bench/old-map-churn.ts [CALLS=200000]
 */
import { getHeapSpaceStatistics } from 'node:v8';
import { SlotList } from '../src/slot-list.js';
import { YoungMap } from '../src/young-map.js';

interface Collection {
  add(member: Member): void;
  remove(member: Member): void;
}

class Member {
  slot = -1;
  constructor(readonly key: string) {}
}

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

const oldSpaceUsed = (): number =>
  getHeapSpaceStatistics().find((space) => space.space_name === 'old_space')?.space_used_size ?? 0;

function measure(name: string, make: () => Collection, calls: number): void {
  const collection = make();
  const members = Array.from({ length: 1000 }, (_, i) => new Member(`token-${i}`));
  // Two full collections: the collection and its members are old, as in a sidecar running for a while.
  gc!();
  gc!();
  const before = oldSpaceUsed();
  for (let call = 0; call < calls; call++) {
    const member = members[call % members.length]!;
    collection.add(member);
    collection.remove(member);
  }
  const perCall = (oldSpaceUsed() - before) / calls;
  console.log(`${name.padEnd(44)} ${perCall.toFixed(1).padStart(7)} old-space bytes a call`);
}

const calls = Number(process.argv[2] ?? 200_000);
console.log(`Node ${process.version}, ${calls} calls, one member in and out per call:`);
/** A Map or a YoungMap, keyed by the member's key. */
function keyed(map: { set(key: string, member: Member): unknown; delete(key: string): unknown }): Collection {
  return { add: (m) => map.set(m.key, m), remove: (m) => map.delete(m.key) };
}

measure('Map (key -> member)', () => keyed(new Map<string, Member>()), calls);
measure('YoungMap (young copy every 64 removals)', () => keyed(new YoungMap<string, Member>()), calls);
measure(
  'SlotList',
  () => {
    const list = new SlotList<Member>();
    return { add: (m) => list.add(m), remove: (m) => list.remove(m) };
  },
  calls,
);
