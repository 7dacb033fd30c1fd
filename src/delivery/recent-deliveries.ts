import * as crypto from 'node:crypto';

/**
 * Tokens SWF accepted in the last `ttlMs`, so that a worker retrying after a lost response is
 * answered DELIVERED without a second SWF call (which SWF would refuse as UnknownResourceFault).
 *
 * Bounded by `maxEntries` (the oldest go first) and keyed by a SHA-256 digest, not the token:
 * 100,000 entries hold about 10 MB whatever the tokens' length, and no credential sits in memory
 * longer than its delivery. Insertion order is expiry order because the TTL is fixed, so
 * eviction only ever looks at the front of the Map.
 */
export class RecentDeliveries {
  private readonly expiresAtByKey = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  get size(): number {
    return this.expiresAtByKey.size;
  }

  remember(taskToken: string, nowMs: number): void {
    if (this.ttlMs <= 0 || this.maxEntries <= 0) return;
    const key = digest(taskToken);
    this.expiresAtByKey.delete(key);
    this.expiresAtByKey.set(key, nowMs + this.ttlMs);
    this.evict(nowMs);
  }

  has(taskToken: string, nowMs: number): boolean {
    if (this.expiresAtByKey.size === 0) return false;
    this.evict(nowMs);
    return this.expiresAtByKey.has(digest(taskToken));
  }

  private evict(nowMs: number): void {
    for (const [key, expiresAtMs] of this.expiresAtByKey) {
      if (expiresAtMs > nowMs && this.expiresAtByKey.size <= this.maxEntries) break;
      this.expiresAtByKey.delete(key);
    }
  }
}

/** One-shot `crypto.hash` where Node has it (20.12+): a third of createHash's cost per token. */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64') => string }).hash;

function digest(taskToken: string): string {
  return oneShotHash !== undefined
    ? oneShotHash('sha256', taskToken, 'base64')
    : crypto.createHash('sha256').update(taskToken).digest('base64');
}
