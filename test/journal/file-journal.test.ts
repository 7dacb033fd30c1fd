import assert from 'node:assert/strict';
import { appendFile, cp, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import type { FailureReport } from '../../src/delivery/failure-report.js';
import { isSidecarError } from '../../src/errors.js';
import { FileJournal, type FileJournalOptions } from '../../src/journal/file-journal.js';
import { createLogger } from '../../src/logger.js';
import { ManualClock } from '../support/manual-clock.js';

// Each test registers what it opens; afterEach closes journals and removes directories.
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'file-journal-'));
  cleanups.push(() => rm(directory, { recursive: true, force: true }));
  return directory;
}

interface Harness {
  readonly journal: FileJournal;
  readonly clock: ManualClock;
  /** JSON log lines at warn and above. */
  readonly logLines: string[];
}

function journalIn(directory: string, options: Partial<FileJournalOptions> = {}): Harness {
  const logLines: string[] = [];
  const clock = new ManualClock();
  const journal = new FileJournal({
    directory,
    maxBytes: 16 * 1024 * 1024,
    clock,
    logger: createLogger('warn', { write: (line: string) => void logLines.push(line) }),
    ...options,
  });
  cleanups.push(() => journal.close());
  return { journal, clock, logLines };
}

async function segmentPaths(directory: string): Promise<string[]> {
  return (await readdir(directory))
    .filter((name) => /^journal-\d+\.log$/.test(name))
    .sort()
    .map((name) => join(directory, name));
}

async function lastSegment(directory: string): Promise<string> {
  const path = (await segmentPaths(directory)).at(-1);
  assert.ok(path !== undefined, 'a segment file exists');
  return path;
}

async function directoryBytes(directory: string): Promise<number> {
  let total = 0;
  for (const path of await segmentPaths(directory)) total += (await stat(path)).size;
  return total;
}

/** What a crash would leave: the files as they are now, opened by a new process. */
async function crashCopy(directory: string): Promise<string> {
  const copy = await tempDir();
  await cp(directory, copy, { recursive: true });
  return copy;
}

/** The framed size of an APPEND record, as the format defines it. */
function appendFrameBytes(report: FailureReport): number {
  const json = JSON.stringify({ taskToken: report.taskToken, reason: report.reason, details: report.details });
  return 8 + 1 + 8 + Buffer.byteLength(json, 'utf8');
}

const ODD_REPORTS: readonly FailureReport[] = [
  { taskToken: 'token-absent-fields' },
  { taskToken: 'token-empty-fields', reason: '', details: '' },
  { taskToken: 'token-reason-only', reason: 'Timeout' },
  { taskToken: 'token-details-only', details: 'stack trace\n\tat line 1' },
  { taskToken: 'tökén-ünïcødé', reason: 'Échec: 失败 🚀', details: 'détails — "quoted" \\ \u0000 \ud800 end' },
];

describe('FileJournal', () => {
  it('replays every appended report exactly, absent fields and "" kept apart, in append order', async () => {
    const directory = await tempDir();
    const first = journalIn(directory);
    const empty = await first.journal.open();
    assert.deepEqual(empty, { pending: [], corruptBytesSkipped: 0, corruptRecordsSkipped: 0 });
    const ids: number[] = [];
    for (const report of ODD_REPORTS) ids.push(await first.journal.append(report));
    await first.journal.close();

    const second = journalIn(directory);
    const recovery = await second.journal.open();
    assert.deepEqual(
      recovery.pending.map((record) => record.id),
      ids,
    );
    assert.deepEqual(
      recovery.pending.map((record) => record.report),
      ODD_REPORTS,
    );
    const absent = recovery.pending[0]?.report;
    assert.ok(absent !== undefined && !('reason' in absent) && !('details' in absent));
    assert.equal(recovery.corruptBytesSkipped, 0);
    assert.equal(recovery.corruptRecordsSkipped, 0);
    assert.equal(second.journal.stats().pendingRecords, ODD_REPORTS.length);
    assert.equal(second.logLines.length, 0);
  });

  it('does not replay settled reports, and ids continue after the highest one seen', async () => {
    const directory = await tempDir();
    const seen: number[] = [];
    for (let round = 0; round < 4; round += 1) {
      const { journal } = journalIn(directory);
      const recovery = await journal.open();
      assert.deepEqual(
        recovery.pending.map((record) => record.report.taskToken),
        round === 0 ? [] : [`keep-${round - 1}`],
      );
      for (const record of recovery.pending) journal.markSettled(record.id);
      const settled = await journal.append({ taskToken: `settle-${round}` });
      const kept = await journal.append({ taskToken: `keep-${round}` });
      journal.markSettled(settled);
      seen.push(settled, kept);
      await journal.close();
      assert.ok((await segmentPaths(directory)).length <= 2, 'settled segments are deleted');
    }
    assert.deepEqual(
      seen,
      [...seen].sort((a, b) => a - b),
    );
    assert.equal(new Set(seen).size, seen.length, 'no id is handed out twice');
  });

  it('writes settled marks on the clock timer, unsynced, without waiting for an append', async () => {
    const directory = await tempDir();
    const { journal, clock } = journalIn(directory, { settledFlushDelayMs: 50 });
    await journal.open();
    const [a, b, c] = await Promise.all([
      journal.append({ taskToken: 'a' }),
      journal.append({ taskToken: 'b' }),
      journal.append({ taskToken: 'c' }),
    ]);
    const syncs = journal.stats().syncs;
    journal.markSettled(a);
    journal.markSettled(c);
    journal.markSettled(c); // Twice is harmless.
    assert.equal(journal.stats().settledMarksBuffered, 2);
    assert.equal(journal.stats().pendingRecords, 1);
    await clock.advance(49);
    assert.equal(journal.stats().settledMarksBuffered, 2, 'not before the delay');
    await clock.advance(1);
    assert.equal(journal.stats().settledMarksBuffered, 0, 'the timer started a write');
    await journal.flush(); // Waits for that write; nothing is left to add.
    assert.equal(journal.stats().syncs, syncs, 'settled marks are not synced');

    const recovery = await journalIn(await crashCopy(directory)).journal.open();
    assert.deepEqual(
      recovery.pending.map((record) => record.id),
      [b],
    );
  });

  it('resolves an append only after the sync covering it, and shares one sync among concurrent appends', async () => {
    const directory = await tempDir();
    const { journal } = journalIn(directory);
    await journal.open();
    const syncsWhenResolved: number[] = [];
    const reports = Array.from({ length: 500 }, (_, i) => ({ taskToken: `token-${i}`, details: 'x'.repeat(200) }));
    const ids = await Promise.all(
      reports.map((report) =>
        journal.append(report).then((id) => {
          syncsWhenResolved.push(journal.stats().syncs);
          return id;
        }),
      ),
    );
    assert.deepEqual(
      ids,
      reports.map((_, i) => i + 1),
    );
    assert.ok(
      syncsWhenResolved.every((syncs) => syncs >= 1),
      'no append resolves before a sync',
    );
    assert.equal(journal.stats().syncs, 1, '500 appends in one turn share one write and one sync');

    // Appends that arrive while a write and sync are in flight form the next group.
    const before = journal.stats().syncs;
    const firstOfBurst = journal.append({ taskToken: 'first' });
    await new Promise((resolve) => setImmediate(resolve)); // Lets the writer start its write.
    const rest = Array.from({ length: 499 }, (_, i) => journal.append({ taskToken: `late-${i}` }));
    await Promise.all([firstOfBurst, ...rest]);
    const syncsForBurst = journal.stats().syncs - before;
    assert.ok(syncsForBurst >= 1 && syncsForBurst <= 3, `500 appends took ${syncsForBurst} syncs`);

    await journal.close();
    const recovery = await journalIn(directory).journal.open();
    assert.equal(recovery.pending.length, 1000);
  });

  describe('a torn or corrupt tail', () => {
    const reports: FailureReport[] = [
      { taskToken: 'secret-token-1', reason: 'r1' },
      { taskToken: 'secret-token-2', reason: 'r2', details: 'd2' },
      { taskToken: 'secret-token-3', details: 'the last record, long enough to be cut in the middle' },
    ];

    async function journalWithThreeReports(): Promise<{ directory: string; ids: number[] }> {
      const directory = await tempDir();
      const { journal } = journalIn(directory);
      await journal.open();
      const ids: number[] = [];
      for (const report of reports) ids.push(await journal.append(report));
      await journal.close();
      return { directory, ids };
    }

    /** Opens after the damage, checks what survived, then checks the journal is clean again. */
    async function assertRecovers(
      directory: string,
      survivors: readonly FailureReport[],
      skipped: { bytes: number; records: number },
    ): Promise<void> {
      const damaged = journalIn(directory);
      const recovery = await damaged.journal.open();
      assert.deepEqual(
        recovery.pending.map((record) => record.report),
        survivors,
      );
      assert.equal(recovery.corruptBytesSkipped, skipped.bytes);
      assert.equal(recovery.corruptRecordsSkipped, skipped.records);
      const warning = damaged.logLines.find((line) => line.includes('torn or corrupt'));
      assert.ok(warning !== undefined, 'a warning is logged');
      assert.ok(!damaged.logLines.some((line) => line.includes('secret-token')), 'no token in the logs');
      const parsed = JSON.parse(warning) as { skippedBytes: number; skippedRecords: number };
      assert.equal(parsed.skippedBytes, skipped.bytes);
      assert.equal(parsed.skippedRecords, skipped.records);

      const after = { taskToken: 'secret-token-after' };
      await damaged.journal.append(after);
      await damaged.journal.close();

      const reopened = journalIn(directory);
      const clean = await reopened.journal.open();
      assert.deepEqual(
        clean.pending.map((record) => record.report),
        [...survivors, after],
      );
      assert.equal(clean.corruptBytesSkipped, 0, 'the torn tail was cut off, so it is reported once');
      assert.equal(clean.corruptRecordsSkipped, 0);
      assert.equal(reopened.logLines.length, 0);
    }

    it('skips a record cut off mid-write', async () => {
      const { directory } = await journalWithThreeReports();
      const path = await lastSegment(directory);
      const size = (await stat(path)).size;
      await truncate(path, size - 10);
      const lastFrame = appendFrameBytes(reports[2]!);
      await assertRecovers(directory, reports.slice(0, 2), { bytes: lastFrame - 10, records: 1 });
    });

    it('skips a record whose checksum fails', async () => {
      const { directory } = await journalWithThreeReports();
      const path = await lastSegment(directory);
      const data = await readFile(path);
      const at = data.length - 5;
      data[at] = data[at]! ^ 0x20;
      await writeFile(path, data);
      await assertRecovers(directory, reports.slice(0, 2), { bytes: appendFrameBytes(reports[2]!), records: 1 });
    });

    it('skips garbage written after valid records', async () => {
      const { directory } = await journalWithThreeReports();
      const garbage = Buffer.from('not a journal frame, just some garbage bytes');
      await appendFile(await lastSegment(directory), garbage);
      await assertRecovers(directory, reports, { bytes: garbage.length, records: 1 });
    });

    it('skips a tail of zeros (a file extended but never written)', async () => {
      const { directory } = await journalWithThreeReports();
      await appendFile(await lastSegment(directory), Buffer.alloc(4096));
      await assertRecovers(directory, reports, { bytes: 4096, records: 1 });
    });
  });

  it('refuses appends past maxBytes of pending reports with resource-exhausted, until some settle', async () => {
    const directory = await tempDir();
    const report = { taskToken: 'token-0000', details: 'y'.repeat(100) };
    const frame = appendFrameBytes(report);
    const { journal } = journalIn(directory, { maxBytes: 3 * frame + frame / 2 });
    await journal.open();

    // In-flight appends count too: the fourth of four concurrent ones is refused before any write.
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => journal.append(report)));
    assert.deepEqual(
      results.map((result) => result.status),
      ['fulfilled', 'fulfilled', 'fulfilled', 'rejected'],
    );
    const refusal = results[3];
    assert.ok(refusal?.status === 'rejected');
    assert.ok(isSidecarError(refusal.reason), 'a SidecarError');
    assert.equal(refusal.reason.kind, 'resource-exhausted');
    assert.match(refusal.reason.message, /journal is full/);
    assert.equal(journal.stats().bytes, 3 * frame);

    const first = results[0];
    assert.ok(first?.status === 'fulfilled');
    journal.markSettled(first.value);
    assert.equal(journal.stats().bytes, 2 * frame);
    await journal.append(report);
    await journal.close();

    // Replayed reports count against the bound as well.
    const { journal: reopened } = journalIn(directory, { maxBytes: 3 * frame + frame / 2 });
    assert.equal((await reopened.open()).pending.length, 3);
    await assert.rejects(reopened.append(report), { name: 'SidecarError', kind: 'resource-exhausted' });
  });

  it('keeps the directory bounded over 20,000 append and settle cycles, and pending reports survive compaction', async () => {
    const directory = await tempDir();
    const segmentBytes = 32 * 1024;
    const { journal, clock } = journalIn(directory, { segmentBytes, maxBytes: 4 * 1024 * 1024 });
    await journal.open();
    const batchSize = 100;
    const pinned: { id: number; report: FailureReport }[] = [];
    let largestFileBytes = 0;
    let largestBatchBytes = 0;
    for (let batch = 0; batch < 200; batch += 1) {
      const reports = Array.from({ length: batchSize }, (_, i) => ({
        taskToken: `token-${batch * batchSize + i}`,
        reason: 'Boom',
        details: `details ${'z'.repeat((batch * 7 + i) % 60)}`,
      }));
      largestBatchBytes = Math.max(
        largestBatchBytes,
        reports.reduce((sum, report) => sum + appendFrameBytes(report), 0),
      );
      const ids = await Promise.all(reports.map((report) => journal.append(report)));
      ids.forEach((id, i) => {
        // Every 1,000th report stays pending and pins its segment until compaction moves it.
        if ((batch * batchSize + i) % 1000 === 0) pinned.push({ id, report: reports[i]! });
        else journal.markSettled(id);
      });
      if (batch % 2 === 0) await clock.advance(1_000);
      await journal.flush();

      const stats = journal.stats();
      const onDisk = await directoryBytes(directory);
      assert.equal(stats.fileBytes, onDisk, 'stats().fileBytes matches the files');
      largestFileBytes = Math.max(largestFileBytes, onDisk);
      // Dead bytes in old segments stay under max(segment, live); active and just-rolled segments
      // may each overshoot by one group.
      const bound = 2 * stats.bytes + 3 * segmentBytes + 2 * (largestBatchBytes + 8 * batchSize + 64);
      assert.ok(onDisk <= bound, `batch ${batch}: ${onDisk} bytes on disk, bound ${bound}`);
    }
    const stats = journal.stats();
    assert.equal(stats.pendingRecords, 20);
    assert.ok(stats.compactions > 0, 'pinned records were copied forward');
    assert.ok(largestFileBytes < 200 * 1024, `at most ${largestFileBytes} bytes on disk for ~3 MB written`);
    await journal.close();

    const { journal: reopened } = journalIn(directory, { segmentBytes });
    const recovery = await reopened.open();
    assert.deepEqual(recovery.pending, pinned);
    assert.equal(recovery.corruptRecordsSkipped, 0);
    assert.equal(await reopened.append({ taskToken: 'next' }), 20_001);
  });

  it('replays each report once after a crash between a compaction copy and the deletes', async () => {
    const directory = await tempDir();
    const segmentBytes = 4 * 1024;
    const { journal } = journalIn(directory, { segmentBytes });
    await journal.open();
    const pinnedReport = { taskToken: 'pinned', reason: 'still pending' };
    const pinnedId = await journal.append(pinnedReport);
    let snapshotBefore: string | undefined;
    for (let round = 0; journal.stats().compactions === 0; round += 1) {
      assert.ok(round < 100, 'a compaction happens');
      snapshotBefore = await crashCopy(directory);
      const ids = await Promise.all(
        Array.from({ length: 20 }, (_, i) => journal.append({ taskToken: `t-${round}-${i}`, details: 'q'.repeat(50) })),
      );
      for (const id of ids) journal.markSettled(id);
      await journal.flush();
    }
    assert.ok(snapshotBefore !== undefined);
    // The copies are on disk but the old segments are still there: union of before and after.
    const merged = await crashCopy(snapshotBefore);
    await cp(directory, merged, { recursive: true, force: true });
    assert.ok((await segmentPaths(merged)).length > (await segmentPaths(directory)).length);

    const recovery = await journalIn(merged).journal.open();
    assert.deepEqual(recovery.pending, [{ id: pinnedId, report: pinnedReport }]);
    assert.equal(recovery.corruptRecordsSkipped, 0);
  });

  it('closes idempotently, flushing settled marks, and refuses appends once closing', async () => {
    const directory = await tempDir();
    const { journal } = journalIn(directory);
    await journal.open();
    const id = await journal.append({ taskToken: 'a' });
    journal.markSettled(id);
    const closing = journal.close();
    assert.equal(journal.close(), closing, 'the same promise');
    await assert.rejects(journal.append({ taskToken: 'b' }), { name: 'SidecarError', kind: 'unavailable' });
    await closing;
    await journal.close();
    journal.markSettled(id); // Ignored after close.
    await assert.rejects(journal.append({ taskToken: 'c' }), { name: 'SidecarError', kind: 'unavailable' });

    const recovery = await journalIn(directory).journal.open();
    assert.deepEqual(recovery.pending, [], 'close wrote the settled mark');

    const neverOpened = journalIn(await tempDir()).journal;
    await neverOpened.close();
    await neverOpened.close();
    await assert.rejects(neverOpened.open());
  });

  it('refuses appends before open', async () => {
    const { journal } = journalIn(await tempDir());
    await assert.rejects(journal.append({ taskToken: 'a' }), { name: 'SidecarError', kind: 'unavailable' });
  });
});
