/**
 * Crash: the built sidecar, with a journal, accepts 1,000 QUEUED reports while SWF is slow and is
 * killed with SIGKILL mid-delivery. Started again on the same journal, it delivers every report
 * the first run had not: each of the 1,000 reaches SWF, and SWF accepts each exactly once (a
 * report SWF took just before the kill is answered UnknownResourceFault on replay, which the
 * sidecar counts as presumed delivered). Needs `npm run build`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeSwf } from '../support/fake-swf.js';
import { connectClient } from '../support/grpc-client.js';
import { spawnSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import {
  acceptedMoreThanOnce,
  acceptedTokens,
  metricsText,
  sampleOf,
  sumOf,
  tokens,
  until,
} from './robustness-support.js';

const REPORTS = 1000;

describe('crash: kill -9 mid-delivery, restart on the same journal', () => {
  let fake: FakeSwf;
  let journalDir: string;
  const started: SidecarProcess[] = [];

  const start = async (env: Record<string, string>): Promise<SidecarProcess> => {
    const sidecar = await spawnSidecar({
      AWS_ENDPOINT_URL_SWF: fake.url,
      SWF_SIDECAR_JOURNAL_DIR: journalDir,
      SWF_SIDECAR_SHUTDOWN_GRACE_MS: '5000',
      ...env,
    });
    started.push(sidecar);
    return sidecar;
  };

  before(async () => {
    journalDir = await mkdtemp(join(tmpdir(), 'swf-sidecar-crash-'));
    // Slow SWF: every answer held 200 ms, so calls are in flight (some applied by SWF, their
    // answers not yet back) when the sidecar dies.
    fake = await FakeSwf.start({ latencyMs: 200 });
  });
  after(async () => {
    for (const sidecar of started) await sidecar.stop('SIGKILL');
    await fake?.close();
    await rm(journalDir, { recursive: true, force: true });
  });

  it('delivers all 1,000 QUEUED reports exactly once across the crash', { timeout: 90_000 }, async (t) => {
    const all = tokens('crash', REPORTS);
    const first = await start({ SWF_SIDECAR_RATE_PER_SECOND: '50', SWF_SIDECAR_BURST: '10' });
    const client = connectClient(first.grpcAddress);
    try {
      // Half by single calls, half in batches of 100.
      const singles = all.slice(0, REPORTS / 2);
      const batches: string[][] = [];
      for (let i = REPORTS / 2; i < REPORTS; i += 100) batches.push(all.slice(i, i + 100));
      const answers = await Promise.all([
        ...singles.map(async (taskToken) => [
          await client.fail({ taskToken, reason: 'crash test', delivery: 'DELIVERY_QUEUED' }),
        ]),
        ...batches.map(
          async (batch) =>
            (await client.failMany({ tasks: batch.map((taskToken) => ({ taskToken, delivery: 'DELIVERY_QUEUED' })) }))
              .results,
        ),
      ]);
      const outcomes = answers.flat().map((answer) => answer.outcome);
      assert.equal(outcomes.length, REPORTS);
      assert.ok(
        outcomes.every((outcome) => outcome === 'OUTCOME_QUEUED'),
        'every report acknowledged as QUEUED (journalled and synced)',
      );
    } finally {
      client.close();
    }

    // Mid-delivery: some reports accepted by SWF, most not yet.
    await until(() => fake.accepted().length >= 50, {
      timeoutMs: 20_000,
      describe: () => `SWF accepted ${fake.accepted().length}`,
    });
    first.child.kill('SIGKILL');
    assert.equal((await first.exited).signal, 'SIGKILL');
    const callsBeforeCrash = fake.calls.length;
    const acceptedBeforeCrash = acceptedTokens(fake);
    assert.ok(
      acceptedBeforeCrash.size < REPORTS,
      `killed mid-delivery: SWF had accepted ${acceptedBeforeCrash.size} of ${REPORTS}`,
    );

    // Same journal, SWF fast again.
    fake.configure({ latencyMs: 0 });
    const second = await start({ SWF_SIDECAR_RATE_PER_SECOND: '1000', SWF_SIDECAR_BURST: '200' });
    await until(() => acceptedTokens(fake).size >= REPORTS, {
      timeoutMs: 30_000,
      describe: () => `SWF accepted ${acceptedTokens(fake).size} of ${REPORTS}`,
    });
    let text = '';
    const replayed = (): number => sumOf(text, 'swf_sidecar_journal_replayed_total');
    await until(
      async () => {
        text = await metricsText(second);
        return (
          sumOf(text, 'swf_sidecar_queue_items') === 0 && sumOf(text, 'swf_sidecar_deliveries_total') === replayed()
        );
      },
      {
        timeoutMs: 30_000,
        describe: () =>
          `replayed ${replayed()}, settled ${sumOf(text, 'swf_sidecar_deliveries_total')}, ` +
          `queue ${sumOf(text, 'swf_sidecar_queue_items')}`,
      },
    );

    assert.deepEqual(acceptedMoreThanOnce(fake), [], 'a report accepted twice by SWF');
    const accepted = acceptedTokens(fake);
    assert.deepEqual(
      all.filter((token) => !accepted.has(token)),
      [],
      'reports acknowledged as QUEUED that never reached SWF',
    );
    assert.equal(accepted.size, REPORTS);

    // Everything SWF had not accepted before the crash was replayed, and all of it delivered.
    assert.ok(
      replayed() >= REPORTS - acceptedBeforeCrash.size && replayed() <= REPORTS,
      `replayed ${replayed()}, SWF had accepted ${acceptedBeforeCrash.size} before the crash`,
    );
    assert.equal(sumOf(text, 'swf_sidecar_deliveries_total', { mode: 'queued', result: 'delivered' }), replayed());
    const afterCrash = fake.calls.slice(callsBeforeCrash);
    const unknownResource = afterCrash.filter((call) => call.answer === 'UnknownResourceFault');
    assert.ok(
      unknownResource.every((call) => acceptedBeforeCrash.has(call.taskToken ?? '')),
      'UnknownResourceFault only for reports SWF took before the crash',
    );
    assert.equal(sumOf(text, 'swf_sidecar_presumed_delivered_total'), unknownResource.length);

    // A clean stop marks the replayed reports settled: a third start replays nothing.
    assert.deepEqual(await second.stop('SIGTERM'), { code: 0, signal: null });
    const third = await start({});
    assert.equal(await sampleOf(third, 'swf_sidecar_journal_replayed_total'), 0);
    assert.deepEqual(await third.stop('SIGTERM'), { code: 0, signal: null });

    t.diagnostic(
      `SWF accepted ${acceptedBeforeCrash.size} before the kill (${callsBeforeCrash} calls); ` +
        `replayed ${replayed()}, of which ${unknownResource.length} presumed delivered`,
    );
  });
});
