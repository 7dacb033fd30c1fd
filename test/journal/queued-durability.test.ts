import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { startTestSidecar } from '../support/in-process-sidecar.js';
import { settle } from '../support/manual-clock.js';
import { DELIVERED, ScriptedSwf, rejected } from '../support/scripted-swf.js';

describe('QUEUED delivery with a journal', () => {
  let directory: string;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'swf-sidecar-journal-'));
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('keeps what a short grace period left undelivered and delivers it after a restart', async () => {
    const journalDir = join(directory, 'restart');
    const held = new ScriptedSwf();
    const first = await startTestSidecar({ journalDir, shutdownGraceMs: 0 }, { swf: held });
    for (const token of ['j-1', 'j-2', 'j-3']) {
      assert.deepEqual(
        await first.client.fail({ taskToken: token, reason: `r-${token}`, delivery: 'DELIVERY_QUEUED' }),
        {
          outcome: 'OUTCOME_QUEUED',
          attempts: 0,
        },
      );
    }
    await held.untilCalls(3);
    held.calls[0]?.answer(DELIVERED);
    await settle();
    assert.deepEqual(await first.sidecar.shutdown(), { undelivered: 2 });
    first.client.close();

    const swf = new ScriptedSwf((report) =>
      report.taskToken === 'j-3' ? rejected('not-found', 'UnknownResourceFault') : DELIVERED,
    );
    const second = await startTestSidecar({ journalDir }, { swf });
    await swf.untilCalls(2);
    assert.deepEqual(
      swf.calls.map((call) => call.report).sort((a, b) => a.taskToken.localeCompare(b.taskToken)),
      [
        { taskToken: 'j-2', reason: 'r-j-2' },
        { taskToken: 'j-3', reason: 'r-j-3' },
      ],
    );
    await settle();
    assert.equal(await second.sample('swf_sidecar_journal_replayed_total'), 2);
    assert.equal(
      await second.sample('swf_sidecar_presumed_delivered_total'),
      1,
      'UnknownResourceFault for a replayed report counts as delivered',
    );
    assert.equal(await second.sample('swf_sidecar_deliveries_total{mode="queued",result="delivered"}'), 2);
    await second.close();

    const third = new ScriptedSwf(() => DELIVERED);
    const after = await startTestSidecar({ journalDir }, { swf: third });
    assert.equal(await after.sample('swf_sidecar_journal_replayed_total'), 0, 'settled reports are not replayed');
    await after.close();
  });

  it('refuses QUEUED calls with RESOURCE_EXHAUSTED when the journal is full', async () => {
    const swf = new ScriptedSwf();
    const sidecar = await startTestSidecar(
      { journalDir: join(directory, 'full'), journalMaxBytes: 64 * 1024 },
      { swf },
    );
    let refused;
    for (let i = 0; i < 10 && refused === undefined; i += 1) {
      try {
        await sidecar.client.fail({ taskToken: `big-${i}`, details: 'd'.repeat(32_000), delivery: 'DELIVERY_QUEUED' });
      } catch (error) {
        refused = error as { code: number; details: string };
      }
    }
    assert.equal(refused?.code, status.RESOURCE_EXHAUSTED);
    assert.match(refused.details, /journal/);
    assert.equal(await sidecar.sample('swf_sidecar_rejections_total{reason="journal_full"}'), 1);
    for (const call of swf.calls) call.answer(DELIVERED);
    await sidecar.close();
  });
});
