import { hash } from 'node:crypto';

/** 128 of SHA-256's bits identify a token: two of 10^7 tokens share them with a chance of about 2^-82. */
const DIGEST_WORDS = 4;
/** Entries held before the first growth; the arrays double up to maxEntries. */
const INITIAL_CAPACITY = 1024;
/** The index has at least twice as many places as there are entries (load <= 0.5). */
const INDEX_SLACK = 2;
/** The fingerprint filter has 16 counters an entry: when full, about 1 in 16 unknown tokens pass it. */
const FILTER_SLACK = 16;
/** A counter this high stays there (a long run of fingerprints alike): never a false "unknown". */
const FILTER_STUCK = 255;

/**
 * Tokens SWF accepted in the last `ttlMs`, so that a worker retrying after a lost response is
 * answered DELIVERED without a second SWF call (which SWF would refuse as UnknownResourceFault).
 *
 * Bounded by `maxEntries` (the oldest go first) and keyed by 128 bits of the token's SHA-256,
 * not the token, so no credential sits in memory longer than its delivery. Insertion order is
 * expiry order because the TTL is fixed, so the entries are a ring, oldest at the front.
 *
 * Nothing is a JavaScript object per entry: the ring, its index (open addressing on the digest,
 * linear probing) and the fingerprint filter are typed arrays, about 60 bytes an entry in all,
 * grown by doubling. 100,000 entries take about 6 MB outside the JS heap, where a Map of digest
 * strings took 22 MB of heap in 300,000 objects that every full collection had to mark. A token
 * remembered again takes a new place at the back; its old place stays empty until it is the
 * oldest, so while it waits one fewer token is kept.
 *
 * Every accepted call asks `has`, and nearly every answer is no: a counting filter of a cheap
 * fingerprint (a few dozen of the token's characters) answers most of them, and only a token
 * that passes it pays for the digest that decides. The index is keyed by the digest, not the
 * fingerprint, so tokens that share fingerprints (tokens alike but for a few adjacent
 * characters do) cost a digest each, never a long probe.
 */
export class RecentDeliveries {
  private capacity = 0;
  private fingerprints = new Uint32Array(0);
  private digests = new Uint32Array(0);
  /** When each entry expires; -Infinity for a place left by a token remembered again. */
  private expiries = new Float64Array(0);
  /** Ring position + 1 of an entry, at its digest's place or after it; 0 is empty. */
  private index = new Int32Array(0);
  private indexMask = 0;
  /** How many live entries have a fingerprint that falls on each counter (up to FILTER_STUCK). */
  private filter = new Uint8Array(0);
  private filterMask = 0;
  /** Ring position of the oldest entry, and how many places from it are taken. */
  private front = 0;
  private taken = 0;
  private live = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  get size(): number {
    return this.live;
  }

  remember(taskToken: string, nowMs: number): void {
    if (this.ttlMs <= 0 || this.maxEntries <= 0) return;
    this.evict(nowMs);
    const print = fingerprint(taskToken);
    const digest = digestWords(taskToken, SCRATCH_DIGEST);
    const known = this.find(digest);
    if (known >= 0) this.forget(known);
    if (this.taken === this.capacity) {
      if (this.capacity < this.maxEntries) this.grow();
      else this.dropFront();
    }
    const position = (this.front + this.taken) % this.capacity;
    this.taken += 1;
    this.live += 1;
    this.fingerprints[position] = print;
    this.digests.set(digest, position * DIGEST_WORDS);
    this.expiries[position] = nowMs + this.ttlMs;
    this.insertIntoIndex(position);
    this.count(print, +1);
  }

  has(taskToken: string, nowMs: number): boolean {
    if (this.live === 0) return false;
    this.evict(nowMs);
    if (this.filter[fingerprint(taskToken) & this.filterMask] === 0) return false;
    return this.find(digestWords(taskToken, SCRATCH_DIGEST)) >= 0;
  }

  private evict(nowMs: number): void {
    while (this.taken > 0 && (this.expiries[this.front] ?? 0) <= nowMs) this.dropFront();
  }

  private dropFront(): void {
    if (this.expiries[this.front] !== Number.NEGATIVE_INFINITY) this.forget(this.front);
    this.front = (this.front + 1) % this.capacity;
    this.taken -= 1;
  }

  /** Takes a live entry out of the index; its ring place stays, empty, until it is the front. */
  private forget(position: number): void {
    this.removeFromIndex(position);
    this.count(this.fingerprints[position] ?? 0, -1);
    this.expiries[position] = Number.NEGATIVE_INFINITY;
    this.live -= 1;
  }

  /** Ring position of the live entry with this digest, or -1. */
  private find(digest: Uint32Array): number {
    if (this.live === 0) return -1;
    for (let at = (digest[0] ?? 0) & this.indexMask; ; at = (at + 1) & this.indexMask) {
      const entry = this.index[at] ?? 0;
      if (entry === 0) return -1;
      if (this.sameDigest(entry - 1, digest)) return entry - 1;
    }
  }

  private sameDigest(position: number, digest: Uint32Array): boolean {
    const base = position * DIGEST_WORDS;
    for (let word = 0; word < DIGEST_WORDS; word++) {
      if (this.digests[base + word] !== digest[word]) return false;
    }
    return true;
  }

  private insertIntoIndex(position: number): void {
    let at = this.homeOf(position);
    while ((this.index[at] ?? 0) !== 0) at = (at + 1) & this.indexMask;
    this.index[at] = position + 1;
  }

  /** Linear probing's deletion without tombstones: later entries of the run move back. */
  private removeFromIndex(position: number): void {
    let hole = this.homeOf(position);
    while (this.index[hole] !== position + 1) hole = (hole + 1) & this.indexMask;
    for (let at = (hole + 1) & this.indexMask; ; at = (at + 1) & this.indexMask) {
      const entry = this.index[at] ?? 0;
      if (entry === 0) break;
      const home = this.homeOf(entry - 1);
      // The entry may fill the hole unless its home lies cyclically in (hole, at].
      const homeInBetween = hole < at ? home > hole && home <= at : home > hole || home <= at;
      if (!homeInBetween) {
        this.index[hole] = entry;
        hole = at;
      }
    }
    this.index[hole] = 0;
  }

  private count(print: number, by: 1 | -1): void {
    const counter = print & this.filterMask;
    const now = this.filter[counter] ?? 0;
    if (now !== FILTER_STUCK) this.filter[counter] = now + by;
  }

  /** An entry's first place in the index: its digest's first word. */
  private homeOf(position: number): number {
    return (this.digests[position * DIGEST_WORDS] ?? 0) & this.indexMask;
  }

  /** Doubles the ring (up to maxEntries), its oldest entry first again, and rebuilds the index. */
  private grow(): void {
    const capacity = Math.min(this.maxEntries, Math.max(INITIAL_CAPACITY, this.capacity * 2));
    const fingerprints = new Uint32Array(capacity);
    const digests = new Uint32Array(capacity * DIGEST_WORDS);
    const expiries = new Float64Array(capacity);
    for (let i = 0; i < this.taken; i++) {
      const from = (this.front + i) % this.capacity;
      fingerprints[i] = this.fingerprints[from] ?? 0;
      // Word by word: a subarray() per entry would make a view object per entry remembered.
      for (let word = 0; word < DIGEST_WORDS; word++) {
        digests[i * DIGEST_WORDS + word] = this.digests[from * DIGEST_WORDS + word] ?? 0;
      }
      expiries[i] = this.expiries[from] ?? 0;
    }
    this.capacity = capacity;
    this.fingerprints = fingerprints;
    this.digests = digests;
    this.expiries = expiries;
    this.index = new Int32Array(powerOfTwoAtLeast(capacity * INDEX_SLACK));
    this.indexMask = this.index.length - 1;
    this.filter = new Uint8Array(powerOfTwoAtLeast(capacity * FILTER_SLACK));
    this.filterMask = this.filter.length - 1;
    this.front = 0;
    for (let position = 0; position < this.taken; position++) {
      if (expiries[position] === Number.NEGATIVE_INFINITY) continue;
      this.insertIntoIndex(position);
      this.count(fingerprints[position] ?? 0, +1);
    }
  }
}

function powerOfTwoAtLeast(n: number): number {
  let size = 16;
  while (size < n) size *= 2;
  return size;
}

/** Where digestWords writes: one call at a time, copied out by remember. */
const SCRATCH_DIGEST = new Uint32Array(DIGEST_WORDS);

function digestWords(taskToken: string, into: Uint32Array): Uint32Array {
  const digest = hash('sha256', taskToken, 'buffer');
  for (let word = 0; word < DIGEST_WORDS; word++) into[word] = digest.readUInt32LE(word * 4);
  return into;
}

/** Characters sampled for the fingerprint, spread over the token. */
const FINGERPRINT_SAMPLES = 48;

/**
 * FNV-1a over the length and up to 48 characters spread evenly over the token (the last always
 * among them). Equal tokens have equal fingerprints; different ones rarely do, and when they do
 * the digest still tells them apart.
 */
export function fingerprint(taskToken: string): number {
  const length = taskToken.length;
  let hash = Math.imul(0x811c9dc5 ^ length, 0x01000193);
  if (length === 0) return hash >>> 0;
  const step = Math.max(1, Math.floor(length / FINGERPRINT_SAMPLES));
  for (let i = (length - 1) % step; i < length; i += step) {
    hash = Math.imul(hash ^ taskToken.charCodeAt(i), 0x01000193);
  }
  return hash >>> 0;
}
