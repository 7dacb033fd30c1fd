import { mkdir, open, readdir, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Clock, TimerHandle } from '../clock.js';
import type { FailureReport } from '../delivery/failure-report.js';
import { SidecarError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Journal, JournalRecord, JournalRecovery } from './journal.js';

/*
 * On-disk format. The directory holds segment files `journal-<seq>.log` (seq zero-padded, read in
 * numeric order). A segment is a sequence of frames:
 *
 *   [u32 LE payload length][u32 LE crc32 of payload][payload]
 *
 * and a payload is one type byte followed by:
 *   SEGMENT_START (3): u64 LE id the segment's first append will get. First frame of every segment,
 *                      so ids keep increasing even after every older segment was deleted.
 *   APPEND (1):        u64 LE id, then UTF-8 JSON {taskToken, reason?, details?}; a key is absent
 *                      when the field was absent, so "" and absent stay distinct.
 *   SETTLED (2):       n × u64 LE ids whose delivery ended.
 *
 * An id is pending when an APPEND for it survives and no later SETTLED names it. Compaction copies
 * pending APPENDs forward (the same id may then appear twice; the first one read wins) and deletes
 * old segments from the front only, so a SETTLED mark is never deleted while the APPEND it names
 * survives.
 */

const FRAME_HEADER_BYTES = 8;
const ID_BYTES = 8;
const RECORD_APPEND = 1;
const RECORD_SETTLED = 2;
const RECORD_SEGMENT_START = 3;
/**
 * Longest payload accepted, in bytes. A report SWF accepts frames to under 200 KiB (32,768
 * characters of details, each at most 6 bytes JSON-escaped); anything longer read back is damage.
 */
const MAX_PAYLOAD_BYTES = 1024 * 1024;
/** Ids per SETTLED frame: 8,192 × 8 bytes = 64 KiB payload. */
const MAX_IDS_PER_SETTLED_FRAME = 8192;
const SEGMENT_FILE = /^journal-(\d+)\.log$/;

export interface FileJournalOptions {
  /** Where segment files live; created (mkdir -p) when missing. One sidecar per directory. */
  readonly directory: string;
  /**
   * Bound on pending data, in bytes: the framed size of every appended record not yet settled
   * (including appends still waiting for their sync). An append past it rejects with
   * SidecarError('resource-exhausted'). Files on disk stay below about
   * 2 × maxBytes + 3 × segmentBytes (settled records not yet compacted away).
   */
  readonly maxBytes: number;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The active segment rolls to a new file past this size. Default: maxBytes / 4, within [64 KiB, 8 MiB]. */
  readonly segmentBytes?: number;
  /** Longest a settled mark waits in memory for a write to share, in ms. Default 200. */
  readonly settledFlushDelayMs?: number;
}

interface ResolvedOptions {
  readonly directory: string;
  readonly maxBytes: number;
  readonly segmentBytes: number;
  readonly settledFlushDelayMs: number;
}

const MIN_SEGMENT_BYTES = 64 * 1024;
const MAX_SEGMENT_BYTES = 8 * 1024 * 1024;
const DEFAULT_SETTLED_FLUSH_DELAY_MS = 200;

function resolveOptions(options: FileJournalOptions): ResolvedOptions {
  const problems: string[] = [];
  if (options.directory === '') problems.push('directory: expected a path, got ""');
  if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes <= 0) {
    problems.push(`maxBytes: expected a positive integer, got ${options.maxBytes}`);
  }
  const segmentBytes =
    options.segmentBytes ?? Math.min(MAX_SEGMENT_BYTES, Math.max(MIN_SEGMENT_BYTES, Math.floor(options.maxBytes / 4)));
  if (!Number.isSafeInteger(segmentBytes) || segmentBytes <= 0) {
    problems.push(`segmentBytes: expected a positive integer, got ${segmentBytes}`);
  }
  const settledFlushDelayMs = options.settledFlushDelayMs ?? DEFAULT_SETTLED_FLUSH_DELAY_MS;
  if (!Number.isFinite(settledFlushDelayMs) || settledFlushDelayMs < 0) {
    problems.push(`settledFlushDelayMs: expected a number >= 0, got ${settledFlushDelayMs}`);
  }
  if (problems.length > 0) throw new RangeError(`invalid FileJournal options: ${problems.join('; ')}`);
  return { directory: options.directory, maxBytes: options.maxBytes, segmentBytes, settledFlushDelayMs };
}

export interface FileJournalStats {
  /** Framed bytes of pending records: what maxBytes bounds. */
  readonly bytes: number;
  /** Records appended (or being appended) and not settled. */
  readonly pendingRecords: number;
  /** Bytes of all segment files, settled records and marks included. */
  readonly fileBytes: number;
  readonly segments: number;
  /** Group writes: one write() call each. */
  readonly writes: number;
  /** fdatasync calls made for appends and compaction copies (not for segment start or close). */
  readonly syncs: number;
  /** Compaction passes finished: pending records copied forward so old segments could go. */
  readonly compactions: number;
  /** Settled marks waiting in memory for a write. */
  readonly settledMarksBuffered: number;
}

interface Segment {
  readonly seq: number;
  readonly path: string;
  /** File length: what was written, or the good length read back at open. */
  bytes: number;
  /** Pending records whose newest copy is in this segment. */
  liveRecords: number;
  liveBytes: number;
}

interface PendingEntry {
  readonly report: FailureReport;
  /** Framed APPEND size, counted against maxBytes. */
  readonly bytes: number;
  /** Undefined while its append is waiting for a write. */
  segment: Segment | undefined;
}

interface QueuedAppend {
  readonly id: number;
  readonly frame: Buffer;
  readonly resolve: (id: number) => void;
  readonly reject: (error: unknown) => void;
}

interface QueuedCopy {
  readonly id: number;
  readonly frame: Buffer;
  readonly from: Segment;
}

/** What one write carries: appends and copies need a sync, settled marks do not. */
interface Group {
  readonly appends: QueuedAppend[];
  readonly copies: QueuedCopy[];
  readonly settled: number[];
}

interface ActiveSegment {
  readonly segment: Segment;
  readonly handle: FileHandle;
  /** Written since the last sync (settled marks only). */
  dirty: boolean;
}

type State = 'created' | 'opening' | 'open' | 'closing' | 'closed';

/**
 * A hand-written append-only log (see the format above), so a torn tail can be counted and logged.
 *
 * When: `append` queues a frame and starts the writer if it is idle. The writer takes everything
 * queued as one group, writes it with one write() and one fdatasync, resolves the group's
 * appends, then loops; appends arriving meanwhile form the next group (group commit). Settled
 * marks ride along with the next group, or are written unsynced after settledFlushDelayMs: a lost
 * mark only sends a report again, which SWF absorbs.
 */
export class FileJournal implements Journal {
  private readonly options: ResolvedOptions;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private state: State = 'created';
  private opening: Promise<JournalRecovery> | undefined;
  private closing: Promise<void> | undefined;

  private readonly pending = new Map<number, PendingEntry>();
  /** Oldest first; the last one is the active segment, or the newest when none is active. */
  private segments: Segment[] = [];
  private active: ActiveSegment | undefined;
  private nextId = 1;
  private nextSeq = 1;
  private liveBytes = 0;
  private fileBytes = 0;

  private appendQueue: QueuedAppend[] = [];
  private settledQueue: number[] = [];
  private settledFlushDue = false;
  private settledTimer: TimerHandle | undefined;
  /** Set while compacting: pending records in segments below this seq are copied forward. */
  private compactBelowSeq: number | undefined;
  /** After a failed write, compaction waits for a write that succeeds, so a full disk is not hammered. */
  private compactionHeld = false;
  private writer: Promise<void> | undefined;

  private writes = 0;
  private syncs = 0;
  private compactions = 0;

  constructor(options: FileJournalOptions) {
    this.options = resolveOptions(options);
    this.clock = options.clock;
    this.logger = options.logger;
  }

  open(): Promise<JournalRecovery> {
    if (this.state !== 'created') return Promise.reject(new Error(`FileJournal.open() called when ${this.state}`));
    this.state = 'opening';
    this.opening = this.openOnce().catch((error: unknown) => {
      this.state = 'closed';
      throw error;
    });
    return this.opening;
  }

  private async openOnce(): Promise<JournalRecovery> {
    const { directory } = this.options;
    await mkdir(directory, { recursive: true });
    const files = (await readdir(directory))
      .map((name) => ({ name, match: SEGMENT_FILE.exec(name) }))
      .flatMap(({ name, match }) => (match?.[1] === undefined ? [] : [{ name, seq: Number(match[1]) }]))
      .sort((a, b) => a.seq - b.seq);

    let corruptBytesSkipped = 0;
    let corruptRecordsSkipped = 0;
    let maxIdSeen = 0;
    let firstIdFloor = 1;
    for (const file of files) {
      const segment: Segment = {
        seq: file.seq,
        path: join(directory, file.name),
        bytes: 0,
        liveRecords: 0,
        liveBytes: 0,
      };
      const handle = await open(segment.path, 'r+');
      try {
        const data = await handle.readFile();
        const scan = scanSegment(data);
        let badRecords = 0;
        let badBytes = 0;
        for (const frame of scan.frames) {
          const record = decodePayload(frame.payload);
          if (record === undefined) {
            badRecords += 1;
            badBytes += frame.bytes;
            continue;
          }
          if (record.type === RECORD_SEGMENT_START) {
            firstIdFloor = Math.max(firstIdFloor, record.nextId);
          } else if (record.type === RECORD_APPEND) {
            maxIdSeen = Math.max(maxIdSeen, record.id);
            this.replayAppend(record.id, record.report, frame.bytes, segment);
          } else {
            for (const id of record.ids) {
              maxIdSeen = Math.max(maxIdSeen, id);
              this.forget(id);
            }
          }
        }
        if (scan.goodLength < data.length) {
          // Truncated so the damage is reported once, not on every start.
          await handle.truncate(scan.goodLength);
        }
        // Synced so what was read (perhaps only from the page cache of a crashed process) is
        // durable before anything relies on it, such as deleting an older copy.
        await handle.datasync();
        segment.bytes = scan.goodLength;
        const skippedBytes = badBytes + scan.tornBytes;
        const skippedRecords = badRecords + scan.tornRecords;
        if (skippedRecords > 0) {
          corruptBytesSkipped += skippedBytes;
          corruptRecordsSkipped += skippedRecords;
          this.logger.warn(
            {
              segment: file.name,
              tornAtOffset: scan.tornBytes > 0 ? scan.goodLength : undefined,
              skippedBytes,
              skippedRecords,
            },
            'journal: skipped torn or corrupt records (a crash mid-write, or damage); the reports in them are lost',
          );
        }
      } finally {
        await handle.close();
      }
      this.segments.push(segment);
      this.fileBytes += segment.bytes;
      this.nextSeq = segment.seq + 1;
    }
    this.nextId = Math.max(firstIdFloor, maxIdSeen + 1);

    const pending: JournalRecord[] = [...this.pending.entries()]
      .map(([id, entry]) => ({ id, report: entry.report }))
      .sort((a, b) => a.id - b.id);
    this.state = 'open';
    await this.maintain();
    if (this.hasWork()) this.startWriter();
    this.logger.info(
      {
        directory,
        segments: this.segments.length,
        pendingRecords: pending.length,
        pendingBytes: this.liveBytes,
        corruptBytesSkipped,
        corruptRecordsSkipped,
      },
      'journal: opened',
    );
    return { pending, corruptBytesSkipped, corruptRecordsSkipped };
  }

  append(report: FailureReport): Promise<number> {
    if (this.state !== 'open') {
      return Promise.reject(new SidecarError('unavailable', `the journal is ${this.state}; it takes no appends`));
    }
    const id = this.nextId;
    const frame = encodeAppend(id, report);
    if (frame.length - FRAME_HEADER_BYTES > MAX_PAYLOAD_BYTES) {
      return Promise.reject(
        new SidecarError(
          'invalid-argument',
          `the report takes ${frame.length} bytes; the journal's limit is ${MAX_PAYLOAD_BYTES}`,
        ),
      );
    }
    if (this.liveBytes + frame.length > this.options.maxBytes) {
      return Promise.reject(
        new SidecarError(
          'resource-exhausted',
          `the journal is full: ${this.liveBytes} of ${this.options.maxBytes} bytes hold reports not delivered yet`,
        ),
      );
    }
    this.nextId += 1;
    this.pending.set(id, { report, bytes: frame.length, segment: undefined });
    this.liveBytes += frame.length;
    return new Promise<number>((resolve, reject) => {
      this.appendQueue.push({ id, frame, resolve, reject });
      this.startWriter();
    });
  }

  markSettled(id: number): void {
    // Once closed, the mark is lost: the report is sent again on the next start.
    if (this.state !== 'open' && this.state !== 'closing') return;
    if (!this.forget(id)) return;
    this.settledQueue.push(id);
    if (this.state === 'closing') {
      this.settledFlushDue = true;
      this.startWriter();
    } else {
      this.armSettledTimer();
    }
  }

  stats(): FileJournalStats {
    return {
      bytes: this.liveBytes,
      pendingRecords: this.pending.size,
      fileBytes: this.fileBytes,
      segments: this.segments.length,
      writes: this.writes,
      syncs: this.syncs,
      compactions: this.compactions,
      settledMarksBuffered: this.settledQueue.length,
    };
  }

  /** Writes buffered settled marks now and waits until the writer is idle (tests, close). */
  async flush(): Promise<void> {
    if (this.settledQueue.length > 0) this.settledFlushDue = true;
    this.startWriter();
    while (this.writer !== undefined) await this.writer;
  }

  close(): Promise<void> {
    if (this.state === 'open') this.state = 'closing'; // Appends are refused from this call on.
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    if (this.opening !== undefined) await this.opening.catch(() => undefined);
    if (this.state === 'created' || this.state === 'closed') {
      this.state = 'closed';
      return;
    }
    this.state = 'closing';
    if (this.settledTimer !== undefined) this.clock.clearTimeout(this.settledTimer);
    this.settledTimer = undefined;
    await this.flush();
    const active = this.active;
    this.active = undefined;
    this.state = 'closed';
    if (active !== undefined) {
      try {
        // Settled marks synced too, so a clean shutdown re-sends nothing.
        if (active.dirty) await active.handle.datasync();
      } finally {
        await active.handle.close();
      }
    }
  }

  private replayAppend(id: number, report: FailureReport, bytes: number, segment: Segment): void {
    let entry = this.pending.get(id);
    if (entry === undefined) {
      entry = { report, bytes, segment: undefined };
      this.pending.set(id, entry);
      this.liveBytes += bytes;
    } else if (entry.segment !== undefined) {
      // A compaction copy whose original segment was not deleted yet: the newest copy counts.
      entry.segment.liveRecords -= 1;
      entry.segment.liveBytes -= entry.bytes;
    }
    entry.segment = segment;
    segment.liveRecords += 1;
    segment.liveBytes += entry.bytes;
  }

  private armSettledTimer(): void {
    if (this.settledTimer !== undefined || this.settledQueue.length === 0) return;
    this.settledTimer = this.clock.setTimeout(() => {
      this.settledTimer = undefined;
      this.settledFlushDue = true;
      this.startWriter();
    }, this.options.settledFlushDelayMs);
  }

  /** Drops a pending record; false when it was not pending. */
  private forget(id: number): boolean {
    const entry = this.pending.get(id);
    if (entry === undefined) return false;
    this.pending.delete(id);
    this.liveBytes -= entry.bytes;
    if (entry.segment !== undefined) {
      entry.segment.liveRecords -= 1;
      entry.segment.liveBytes -= entry.bytes;
    }
    return true;
  }

  private startWriter(): void {
    if (this.writer !== undefined) return; // The running loop takes new work before it stops.
    // Started on a microtask, so appends made in the same turn share the first write.
    this.writer = Promise.resolve()
      .then(() => this.drain())
      .catch((error: unknown) => this.logger.error({ err: error }, 'journal: writer failed'))
      .finally(() => {
        this.writer = undefined;
        if (this.hasWork()) this.startWriter();
      });
  }

  private hasWork(): boolean {
    return (
      this.appendQueue.length > 0 ||
      this.compactBelowSeq !== undefined ||
      (this.settledFlushDue && this.settledQueue.length > 0)
    );
  }

  /** Never rejects: a failed write rejects its group's appends and the loop goes on. */
  private async drain(): Promise<void> {
    for (;;) {
      const group = this.takeGroup();
      if (group !== undefined) await this.writeGroup(group);
      await this.maintain();
      if (!this.hasWork()) return;
    }
  }

  private takeGroup(): Group | undefined {
    const appends = this.appendQueue.splice(0);
    const copies = this.takeCopies();
    if (appends.length === 0 && copies.length === 0 && !this.settledFlushDue) return undefined;
    const settled = this.settledQueue.splice(0);
    this.settledFlushDue = false;
    if (this.settledTimer !== undefined) this.clock.clearTimeout(this.settledTimer);
    this.settledTimer = undefined;
    if (appends.length === 0 && copies.length === 0 && settled.length === 0) return undefined;
    return { appends, copies, settled };
  }

  /** Up to one segment's worth of compaction copies, so appends never wait behind a huge write. */
  private takeCopies(): QueuedCopy[] {
    const belowSeq = this.compactBelowSeq;
    if (belowSeq === undefined) return [];
    const copies: QueuedCopy[] = [];
    let bytes = 0;
    // A copied record moves to a segment at or above belowSeq, so the next group skips it.
    for (const [id, entry] of this.pending) {
      const from = entry.segment;
      if (from === undefined || from.seq >= belowSeq) continue;
      if (bytes >= this.options.segmentBytes) break;
      const frame = encodeAppend(id, entry.report);
      copies.push({ id, frame, from });
      bytes += frame.length;
    }
    if (copies.length === 0) {
      this.compactBelowSeq = undefined;
      this.compactions += 1;
    }
    return copies;
  }

  private async writeGroup(group: Group): Promise<void> {
    const frames = [...group.appends.map((append) => append.frame), ...group.copies.map((copy) => copy.frame)];
    for (let i = 0; i < group.settled.length; i += MAX_IDS_PER_SETTLED_FRAME) {
      frames.push(encodeSettled(group.settled.slice(i, i + MAX_IDS_PER_SETTLED_FRAME)));
    }
    const data = Buffer.concat(frames);
    const mustSync = group.appends.length > 0 || group.copies.length > 0;
    let active: ActiveSegment | undefined;
    try {
      active = this.active ?? (await this.createSegment());
      this.writes += 1;
      await writeFully(active.handle, data, active.segment.bytes);
      if (mustSync) {
        this.syncs += 1;
        await active.handle.datasync();
      }
    } catch (error) {
      this.failGroup(group, active, error);
      return;
    }
    // Counted only now: a failed group's bytes are cut off again.
    active.dirty = !mustSync;
    active.segment.bytes += data.length;
    this.fileBytes += data.length;
    if (group.appends.length > 0) this.compactionHeld = false;
    const segment = active.segment;
    for (const append of group.appends) {
      const entry = this.pending.get(append.id);
      if (entry !== undefined && entry.segment === undefined) {
        entry.segment = segment;
        segment.liveRecords += 1;
        segment.liveBytes += entry.bytes;
      }
      append.resolve(append.id);
    }
    for (const copy of group.copies) {
      const entry = this.pending.get(copy.id);
      if (entry === undefined || entry.segment !== copy.from) continue; // Settled meanwhile.
      copy.from.liveRecords -= 1;
      copy.from.liveBytes -= entry.bytes;
      entry.segment = segment;
      segment.liveRecords += 1;
      segment.liveBytes += entry.bytes;
    }
  }

  /**
   * The group's data may be partly on disk: its appends are refused, its settled marks queued
   * again, and the segment is left (cut back to its good length if possible) so the next write
   * starts a clean file. A tail that could not be cut is skipped and counted at the next start.
   */
  private failGroup(group: Group, active: ActiveSegment | undefined, error: unknown): void {
    this.logger.error(
      { err: error, appends: group.appends.length, copies: group.copies.length, settled: group.settled.length },
      'journal: write failed; the group is refused and the next write starts a new segment',
    );
    for (const append of group.appends) {
      this.forget(append.id);
      append.reject(
        new SidecarError('unavailable', 'the journal could not write the report to disk', { cause: error }),
      );
    }
    this.settledQueue.unshift(...group.settled);
    this.armSettledTimer();
    if (group.copies.length > 0 || this.compactBelowSeq !== undefined) {
      this.compactBelowSeq = undefined;
      this.compactionHeld = true;
    }
    if (active !== undefined && this.active === active) {
      this.active = undefined;
      const goodLength = active.segment.bytes;
      void active.handle
        .truncate(goodLength)
        .catch(() => undefined)
        .finally(() => active.handle.close().catch(() => undefined));
    }
  }

  /** Rolls a full segment, deletes settled ones from the front, and starts compaction when worth it. */
  private async maintain(): Promise<void> {
    try {
      const active = this.active;
      if (active !== undefined && active.segment.bytes >= this.options.segmentBytes) {
        this.active = undefined;
        try {
          if (active.dirty) await active.handle.datasync();
        } finally {
          await active.handle.close();
        }
      }
      await this.deleteSettledPrefix();
      if (this.compactBelowSeq === undefined && !this.compactionHeld && this.compactionWorthwhile()) {
        this.compactBelowSeq = this.active?.segment.seq ?? this.nextSeq;
      }
    } catch (error) {
      this.logger.error({ err: error }, 'journal: segment maintenance failed; it is tried again after the next write');
    }
  }

  /**
   * Only from the front, and never the newest: a SETTLED mark then outlives the APPEND it names,
   * and the newest SEGMENT_START keeps ids increasing.
   */
  private async deleteSettledPrefix(): Promise<void> {
    for (;;) {
      const oldest = this.segments[0];
      if (oldest === undefined || this.segments.length === 1) return;
      if (oldest === this.active?.segment || oldest.liveRecords > 0) return;
      await unlink(oldest.path);
      this.segments.shift();
      this.fileBytes -= oldest.bytes;
    }
  }

  /**
   * Pending records pin their segments. Copying them forward costs their bytes; it is done once
   * the dead bytes in old segments exceed both that cost and one segment, so each byte written
   * is copied at most about once more, and old segments stay under 2 × max(live, segmentBytes).
   */
  private compactionWorthwhile(): boolean {
    let oldBytes = 0;
    let oldLiveBytes = 0;
    for (const segment of this.segments) {
      if (segment === this.active?.segment) continue;
      oldBytes += segment.bytes;
      oldLiveBytes += segment.liveBytes;
    }
    return oldLiveBytes > 0 && oldBytes - oldLiveBytes > Math.max(this.options.segmentBytes, oldLiveBytes);
  }

  /** A new segment starts with SEGMENT_START, synced with its directory entry before use. */
  private async createSegment(): Promise<ActiveSegment> {
    const seq = this.nextSeq;
    this.nextSeq += 1;
    const name = `journal-${String(seq).padStart(10, '0')}.log`;
    const segment: Segment = { seq, path: join(this.options.directory, name), bytes: 0, liveRecords: 0, liveBytes: 0 };
    const handle = await open(segment.path, 'wx');
    try {
      const start = encodeSegmentStart(this.nextId);
      await writeFully(handle, start, 0);
      await handle.datasync();
      await syncDirectory(this.options.directory);
      segment.bytes = start.length;
    } catch (error) {
      await handle.close().catch(() => undefined);
      await unlink(segment.path).catch(() => undefined);
      throw error;
    }
    this.segments.push(segment);
    this.fileBytes += segment.bytes;
    this.active = { segment, handle, dirty: false };
    return this.active;
  }
}

// --- Encoding: pure functions over buffers. ---

function frameOf(payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(crc32(payload), 4);
  payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

function encodeAppend(id: number, report: FailureReport): Buffer {
  // Only the three fields; JSON.stringify drops undefined ones, keeping absent distinct from "".
  // It also escapes lone surrogates, so the UTF-8 bytes decode back to the same string.
  const json = Buffer.from(
    JSON.stringify({ taskToken: report.taskToken, reason: report.reason, details: report.details }),
    'utf8',
  );
  const payload = Buffer.allocUnsafe(1 + ID_BYTES + json.length);
  payload[0] = RECORD_APPEND;
  payload.writeBigUInt64LE(BigInt(id), 1);
  json.copy(payload, 1 + ID_BYTES);
  return frameOf(payload);
}

function encodeSettled(ids: readonly number[]): Buffer {
  const payload = Buffer.allocUnsafe(1 + ID_BYTES * ids.length);
  payload[0] = RECORD_SETTLED;
  ids.forEach((id, i) => payload.writeBigUInt64LE(BigInt(id), 1 + ID_BYTES * i));
  return frameOf(payload);
}

function encodeSegmentStart(nextId: number): Buffer {
  const payload = Buffer.allocUnsafe(1 + ID_BYTES);
  payload[0] = RECORD_SEGMENT_START;
  payload.writeBigUInt64LE(BigInt(nextId), 1);
  return frameOf(payload);
}

type DecodedRecord =
  | { readonly type: typeof RECORD_APPEND; readonly id: number; readonly report: FailureReport }
  | { readonly type: typeof RECORD_SETTLED; readonly ids: readonly number[] }
  | { readonly type: typeof RECORD_SEGMENT_START; readonly nextId: number };

/** Undefined for a payload whose checksum held but whose content makes no sense (counted as corrupt). */
function decodePayload(payload: Buffer): DecodedRecord | undefined {
  const type = payload[0];
  if (type === RECORD_APPEND) {
    if (payload.length < 1 + ID_BYTES) return undefined;
    const id = readId(payload, 1);
    const report = decodeReport(payload.subarray(1 + ID_BYTES));
    return id === undefined || report === undefined ? undefined : { type, id, report };
  }
  if (type === RECORD_SETTLED) {
    if ((payload.length - 1) % ID_BYTES !== 0) return undefined;
    const ids: number[] = [];
    for (let offset = 1; offset < payload.length; offset += ID_BYTES) {
      const id = readId(payload, offset);
      if (id === undefined) return undefined;
      ids.push(id);
    }
    return { type, ids };
  }
  if (type === RECORD_SEGMENT_START) {
    const nextId = payload.length === 1 + ID_BYTES ? readId(payload, 1) : undefined;
    return nextId === undefined ? undefined : { type, nextId };
  }
  return undefined;
}

function readId(payload: Buffer, offset: number): number | undefined {
  const id = payload.readBigUInt64LE(offset);
  return id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : undefined;
}

function decodeReport(json: Buffer): FailureReport | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { taskToken, reason, details } = value as Record<string, unknown>;
  if (typeof taskToken !== 'string') return undefined;
  if (reason !== undefined && typeof reason !== 'string') return undefined;
  if (details !== undefined && typeof details !== 'string') return undefined;
  return {
    taskToken,
    ...(reason === undefined ? {} : { reason }),
    ...(details === undefined ? {} : { details }),
  };
}

interface SegmentScan {
  /** Checksummed payloads in file order, each with its framed size. */
  readonly frames: readonly { readonly payload: Buffer; readonly bytes: number }[];
  /** Bytes before the first frame whose length is impossible or whose checksum fails. */
  readonly goodLength: number;
  readonly tornBytes: number;
  /** Frames the torn tail seems to hold (at least 1 when it is not empty). */
  readonly tornRecords: number;
}

/** Reads frames up to the first damaged one; everything after it in the segment is skipped. */
function scanSegment(data: Buffer): SegmentScan {
  const frames: { payload: Buffer; bytes: number }[] = [];
  let offset = 0;
  while (offset < data.length) {
    if (data.length - offset < FRAME_HEADER_BYTES) break;
    const length = data.readUInt32LE(offset);
    if (length < 1 || length > MAX_PAYLOAD_BYTES || offset + FRAME_HEADER_BYTES + length > data.length) break;
    const payload = data.subarray(offset + FRAME_HEADER_BYTES, offset + FRAME_HEADER_BYTES + length);
    if (crc32(payload) !== data.readUInt32LE(offset + 4)) break;
    frames.push({ payload, bytes: FRAME_HEADER_BYTES + length });
    offset += FRAME_HEADER_BYTES + length;
  }
  return { frames, goodLength: offset, tornBytes: data.length - offset, tornRecords: countFrames(data, offset) };
}

/** How many frames the damaged tail from `offset` seems to hold, following plausible lengths. */
function countFrames(data: Buffer, offset: number): number {
  let count = 0;
  for (let at = offset; at < data.length;) {
    count += 1;
    if (data.length - at < FRAME_HEADER_BYTES) break;
    const length = data.readUInt32LE(at);
    if (length < 1 || length > MAX_PAYLOAD_BYTES) break;
    at += FRAME_HEADER_BYTES + length;
  }
  return count;
}

// --- File system helpers. ---

async function writeFully(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  for (let written = 0; written < data.length;) {
    const { bytesWritten } = await handle.write(data, written, data.length - written, position + written);
    if (bytesWritten <= 0) throw new Error(`write() wrote ${bytesWritten} bytes`);
    written += bytesWritten;
  }
}

/** Makes a created file's directory entry durable (fdatasync on the file does not). */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
