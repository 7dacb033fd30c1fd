/**
 * Drain: SIGTERM to the built sidecar with 1,000 QUEUED reports outstanding.
 * - A grace period long enough: every report reaches SWF, exit code 0.
 * - One too short, no journal: exit code 0, and every report SWF did not accept is in the
 *   "shutdown grace period ended" error line (count and token hashes): none vanish untraced.
 * - One too short, with a journal: exit code 0, the leftovers stay in the journal, and the next
 *   start delivers them.
 * Needs `npm run build`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { tokenHash } from '../../src/token-hash.js';
import { FakeSwf } from '../support/fake-swf.js';
import { connectClient } from '../support/grpc-client.js';
import { spawnSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import {
  acceptedMoreThanOnce,
  acceptedTokens,
  logLines,
  metricsText,
  sumOf,
  tokens,
  until,
} from './robustness-support.js';

const REPORTS = 1000;
const GRACE_ENDED = /^shutdown grace period ended/;

describe('drain on SIGTERM', () => {
  let fake: FakeSwf;
  let directory: string;
  const started: SidecarProcess[] = [];

  const start = async (env: Record<string, string>): Promise<SidecarProcess> => {
    const sidecar = await spawnSidecar({ AWS_ENDPOINT_URL_SWF: fake.url, ...env });
    started.push(sidecar);
    return sidecar;
  };

  /** Sends REPORTS QUEUED reports in batches of 100 and checks each was acknowledged QUEUED. */
  const queueAll = async (sidecar: SidecarProcess, prefix: string): Promise<string[]> => {
    const all = tokens(prefix, REPORTS);
    const client = connectClient(sidecar.grpcAddress);
    try {
      const batches: string[][] = [];
      for (let i = 0; i < REPORTS; i += 100) batches.push(all.slice(i, i + 100));
      const responses = await Promise.all(
        batches.map((batch) =>
          client.failMany({ tasks: batch.map((taskToken) => ({ taskToken, delivery: 'DELIVERY_QUEUED' })) }),
        ),
      );
      const outcomes = responses.flatMap((response) => response.results.map((result) => result.outcome));
      assert.equal(outcomes.length, REPORTS);
      assert.ok(outcomes.every((outcome) => outcome === 'OUTCOME_QUEUED'));
    } finally {
      client.close();
    }
    return all;
  };

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'swf-sidecar-drain-'));
    fake = await FakeSwf.start();
  });
  afterEach(async () => {
    for (const sidecar of started.splice(0)) await sidecar.stop('SIGKILL');
    fake.reset();
  });
  after(async () => {
    await fake?.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('delivers everything within a long enough grace period and exits 0', { timeout: 60_000 }, async (t) => {
    // 20 ms per answer and 250 calls/s: about 4 s of work, started just before SIGTERM.
    fake.configure({ latencyMs: 20 });
    const sidecar = await start({
      SWF_SIDECAR_RATE_PER_SECOND: '250',
      SWF_SIDECAR_BURST: '50',
      SWF_SIDECAR_SHUTDOWN_GRACE_MS: '30000',
    });
    const all = await queueAll(sidecar, 'drain-long');
    const acceptedAtSigterm = fake.accepted().length;
    assert.ok(acceptedAtSigterm < REPORTS, `still outstanding at SIGTERM (SWF had ${acceptedAtSigterm})`);

    assert.deepEqual(await sidecar.stop('SIGTERM', 45_000), { code: 0, signal: null });

    assert.deepEqual(acceptedMoreThanOnce(fake), []);
    const accepted = acceptedTokens(fake);
    assert.deepEqual(
      all.filter((token) => !accepted.has(token)),
      [],
      'reports not delivered before exit',
    );
    assert.deepEqual(logLines(sidecar, GRACE_ENDED), []);
    assert.deepEqual(
      logLines(sidecar, 'stopped').map((line) => line['undelivered']),
      [0],
    );
    t.diagnostic(`SWF had accepted ${acceptedAtSigterm} of ${REPORTS} at SIGTERM; all ${REPORTS} before exit`);
  });

  it('with no journal, logs and counts what a short grace period left, and exits 0', { timeout: 60_000 }, async (t) => {
    // 20 calls/s: a 300 ms grace period leaves most of the 1,000 behind.
    fake.configure({ latencyMs: 50 });
    const sidecar = await start({
      SWF_SIDECAR_RATE_PER_SECOND: '20',
      SWF_SIDECAR_BURST: '5',
      SWF_SIDECAR_SHUTDOWN_GRACE_MS: '300',
    });
    const all = await queueAll(sidecar, 'drain-short');
    // The count an operator sees before the stop: every report is outstanding or delivered.
    const text = await metricsText(sidecar);
    assert.equal(sumOf(text, 'swf_sidecar_queue_items') + sumOf(text, 'swf_sidecar_deliveries_total'), REPORTS);

    assert.deepEqual(await sidecar.stop('SIGTERM', 15_000), { code: 0, signal: null });

    const [ended, ...more] = logLines(sidecar, GRACE_ENDED);
    assert.equal(more.length, 0);
    assert.ok(ended !== undefined, 'no "shutdown grace period ended" line');
    assert.equal(ended['level'], 50, 'logged at error level');
    const hashes = ended['token_hashes'] as string[];
    assert.equal(ended['undelivered'], hashes.length);
    assert.equal(ended['kept_in_journal'], 0);
    assert.ok(hashes.length > 0 && hashes.length < REPORTS, `undelivered ${hashes.length}`);
    assert.deepEqual(
      logLines(sidecar, 'stopped').map((line) => line['undelivered']),
      [hashes.length],
    );

    // None vanished: every report was accepted by SWF or is named (by hash) in that line. The
    // ones cut off while their call was out may be both.
    const logged = new Set(hashes);
    const accepted = acceptedTokens(fake);
    assert.deepEqual(
      all.filter((token) => !accepted.has(token) && !logged.has(tokenHash(token))),
      [],
      'reports neither delivered nor logged as undelivered',
    );
    assert.equal(logged.size, hashes.length, 'each undelivered report named once');
    assert.ok(
      all.filter((token) => accepted.has(token) && logged.has(tokenHash(token))).length <= 50,
      'only calls cut off in flight may be both delivered and logged',
    );
    t.diagnostic(`SWF accepted ${accepted.size}; logged as undelivered ${hashes.length}`);
  });

  it(
    'with a journal, keeps what a short grace period left and the next start delivers it',
    { timeout: 60_000 },
    async (t) => {
      const journalDir = join(directory, 'journal');
      fake.configure({ latencyMs: 50 });
      const first = await start({
        SWF_SIDECAR_JOURNAL_DIR: journalDir,
        SWF_SIDECAR_RATE_PER_SECOND: '20',
        SWF_SIDECAR_BURST: '5',
        SWF_SIDECAR_SHUTDOWN_GRACE_MS: '300',
      });
      const all = await queueAll(first, 'drain-journal');
      assert.deepEqual(await first.stop('SIGTERM', 15_000), { code: 0, signal: null });

      const [ended] = logLines(first, GRACE_ENDED);
      assert.ok(ended !== undefined, 'no "shutdown grace period ended" line');
      const leftovers = ended['undelivered'] as number;
      assert.ok(leftovers > 0 && leftovers < REPORTS, `undelivered ${leftovers}`);
      assert.equal(ended['kept_in_journal'], leftovers);
      const acceptedBefore = acceptedTokens(fake);

      fake.configure({ latencyMs: 0 });
      const second = await start({
        SWF_SIDECAR_JOURNAL_DIR: journalDir,
        SWF_SIDECAR_RATE_PER_SECOND: '1000',
        SWF_SIDECAR_BURST: '200',
      });
      await until(() => acceptedTokens(fake).size >= REPORTS, {
        timeoutMs: 30_000,
        describe: () => `SWF accepted ${acceptedTokens(fake).size} of ${REPORTS}`,
      });
      let text = '';
      await until(
        async () => {
          text = await metricsText(second);
          return sumOf(text, 'swf_sidecar_queue_items') === 0;
        },
        { timeoutMs: 10_000, describe: () => `queue ${sumOf(text, 'swf_sidecar_queue_items')}` },
      );
      // Exactly the leftovers were replayed: the delivered ones were marked settled at close.
      assert.equal(sumOf(text, 'swf_sidecar_journal_replayed_total'), leftovers);
      assert.equal(sumOf(text, 'swf_sidecar_deliveries_total', { mode: 'queued', result: 'delivered' }), leftovers);
      assert.deepEqual(acceptedMoreThanOnce(fake), []);
      const accepted = acceptedTokens(fake);
      assert.deepEqual(
        all.filter((token) => !accepted.has(token)),
        [],
      );
      assert.ok(acceptedBefore.size + leftovers >= REPORTS);
      assert.deepEqual(await second.stop('SIGTERM'), { code: 0, signal: null });
      t.diagnostic(
        `SWF accepted ${acceptedBefore.size} before the stop; ${leftovers} kept in the journal and replayed`,
      );
    },
  );
});
