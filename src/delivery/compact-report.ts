import type { FailureReport } from './failure-report.js';

/**
 * A FailureReport that keeps its reason and details as UTF-8 bytes in one Buffer, outside the
 * V8 heap, and decodes them only when read (at send time). A queue of 50,000 reports with 1 KB
 * details then holds about 55 MB of plain bytes instead of as many heap strings that the garbage
 * collector copies, promotes and sizes its heap by. The token stays a string: duplicates are
 * found by it.
 */
export class CompactReport implements FailureReport {
  constructor(
    readonly taskToken: string,
    /** reason's bytes, then details' bytes (possibly a slice of a shared slab, text-slabs.ts). */
    private text: Buffer,
    /** Byte length of reason in `text`; -1 when absent. */
    private readonly reasonBytes: number,
    /** Byte length of details in `text`; -1 when absent. */
    private readonly detailsBytes: number,
    /** Length of reason in UTF-16 code units (as SWF counts); -1 when absent. */
    readonly reasonLength: number,
    /** Length of details in UTF-16 code units; -1 when absent. */
    readonly detailsLength: number,
  ) {}

  get reason(): string | undefined {
    return this.reasonBytes < 0 ? undefined : this.text.toString('utf8', 0, this.reasonBytes);
  }

  get details(): string | undefined {
    if (this.detailsBytes < 0) return undefined;
    const start = Math.max(0, this.reasonBytes);
    return this.text.toString('utf8', start, start + this.detailsBytes);
  }

  /** Moves the text to a buffer of its own, so a report that waits long pins no shared slab. */
  detach(): void {
    if (this.text.byteLength === this.text.buffer.byteLength) return;
    const own = Buffer.allocUnsafeSlow(this.text.length);
    this.text.copy(own);
    this.text = own;
  }

  /** Bytes held: the token's characters and the text buffer. */
  get heldBytes(): number {
    return this.taskToken.length + this.text.length;
  }
}
