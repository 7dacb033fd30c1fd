import { sha256Base64 } from '../sha256.js';

interface Entry {
  readonly expiresAtMs: number;
  readonly fingerprint: number;
}

/**
 * Tokens SWF accepted in the last `ttlMs`, so that a worker retrying after a lost response is
 * answered DELIVERED without a second SWF call (which SWF would refuse as UnknownResourceFault).
 *
 * Bounded by `maxEntries` (the oldest go first) and keyed by a SHA-256 digest, not the token:
 * 100,000 entries hold about 10 MB whatever the tokens' length, and no credential sits in memory
 * longer than its delivery. Insertion order is expiry order because the TTL is fixed, so
 * eviction only ever looks at the front of the Map.
 *
 * Every accepted call asks `has`, and nearly every answer is no: a cheap fingerprint of the token
 * (a few dozen of its characters) is checked first, and only a token whose fingerprint is known
 * pays for the digest that decides.
 */
export class RecentDeliveries {
  private readonly entryByKey = new Map<string, Entry>();
  /** How many entries have each fingerprint. */
  private readonly fingerprintCounts = new Map<number, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  get size(): number {
    return this.entryByKey.size;
  }

  remember(taskToken: string, nowMs: number): void {
    if (this.ttlMs <= 0 || this.maxEntries <= 0) return;
    const key = digest(taskToken);
    this.forget(key);
    const print = fingerprint(taskToken);
    this.entryByKey.set(key, { expiresAtMs: nowMs + this.ttlMs, fingerprint: print });
    this.fingerprintCounts.set(print, (this.fingerprintCounts.get(print) ?? 0) + 1);
    this.evict(nowMs);
  }

  has(taskToken: string, nowMs: number): boolean {
    if (this.entryByKey.size === 0) return false;
    this.evict(nowMs);
    if (!this.fingerprintCounts.has(fingerprint(taskToken))) return false;
    return this.entryByKey.has(digest(taskToken));
  }

  private evict(nowMs: number): void {
    for (const [key, entry] of this.entryByKey) {
      if (entry.expiresAtMs > nowMs && this.entryByKey.size <= this.maxEntries) break;
      this.forget(key);
    }
  }

  private forget(key: string): void {
    const entry = this.entryByKey.get(key);
    if (entry === undefined) return;
    this.entryByKey.delete(key);
    const count = this.fingerprintCounts.get(entry.fingerprint) ?? 0;
    if (count <= 1) this.fingerprintCounts.delete(entry.fingerprint);
    else this.fingerprintCounts.set(entry.fingerprint, count - 1);
  }
}

function digest(taskToken: string): string {
  return sha256Base64(taskToken);
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
