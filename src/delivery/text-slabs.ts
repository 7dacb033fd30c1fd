/**
 * Where accepted reports keep their reason and details bytes: carved out of shared 64 KB slabs
 * instead of one ArrayBuffer each. Every ArrayBuffer costs V8 a JS object, a backing-store record
 * and a malloc header, and a sweep at every collection; for a 1 KB report that was about a fifth
 * of what it held while waiting (bench 4).
 *
 * A slab is freed when the last report carved from it is gone. Reports leave the queue in the
 * order they came, so slabs empty in order too; a report that stays behind (it waits to retry)
 * moves its bytes to a buffer of its own (CompactReport.detach) so that it never pins a slab.
 * Texts larger than a quarter of a slab get their own buffer. Nothing else shares a slab, so a
 * transient buffer can never be pinned by a report (why Node's own 8 KB pool is not used).
 */
const EMPTY = Buffer.alloc(0);

export class TextSlabs {
  private slab: Buffer | undefined;
  private used = 0;

  constructor(private readonly slabBytes: number = 64 * 1024) {}

  /** `size` bytes for one report's text, uninitialised. */
  allocate(size: number): Buffer {
    if (size === 0) return EMPTY;
    if (size > this.slabBytes / 4) return Buffer.allocUnsafeSlow(size);
    if (this.slab === undefined || this.used + size > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(this.slabBytes);
      this.used = 0;
    }
    const start = this.used;
    // Eight-byte aligned, like malloc's.
    this.used = start + ((size + 7) & ~7);
    return this.slab.subarray(start, start + size);
  }
}
