/**
 * SWF down: the fake refuses connections for a while. CONFIRMED calls end with UNAVAILABLE once
 * their retry budget is spent; QUEUED reports keep waiting (retrying within their much longer
 * budget) and all reach SWF once it listens again. Runs the built sidecar as a process; needs
 * `npm run build`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { FakeSwf } from '../support/fake-swf.js';
import { connectClient, type ActivityTasksTestClient } from '../support/grpc-client.js';
import { spawnSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import { acceptedMoreThanOnce, acceptedTokens, metricsText, sumOf, tokens, until } from './robustness-support.js';

const CONFIRMED_ATTEMPTS = 4;
const QUEUED_REPORTS = 100;

describe('SWF down: connections refused', () => {
  let fake: FakeSwf;
  let sidecar: SidecarProcess;
  let client: ActivityTasksTestClient;

  before(async () => {
    fake = await FakeSwf.start();
    sidecar = await spawnSidecar({
      AWS_ENDPOINT_URL_SWF: fake.url,
      SWF_SIDECAR_RATE_PER_SECOND: '1000',
      SWF_SIDECAR_BURST: '200',
      SWF_SIDECAR_REQUEST_TIMEOUT_MS: '1000',
      SWF_SIDECAR_RETRY_MAX_ATTEMPTS: String(CONFIRMED_ATTEMPTS),
      SWF_SIDECAR_RETRY_MAX_ELAPSED_MS: '5000',
      SWF_SIDECAR_RETRY_BASE_DELAY_MS: '20',
      SWF_SIDECAR_RETRY_MAX_DELAY_MS: '200',
      SWF_SIDECAR_QUEUED_RETRY_MAX_ATTEMPTS: '100000',
      SWF_SIDECAR_QUEUED_RETRY_MAX_ELAPSED_MS: '600000',
      SWF_SIDECAR_SHUTDOWN_GRACE_MS: '1000',
    });
    client = connectClient(sidecar.grpcAddress);
  });
  after(async () => {
    client?.close();
    await sidecar?.stop();
    await fake?.close();
  });

  it(
    'fails CONFIRMED calls with UNAVAILABLE after the budget and delivers QUEUED ones when SWF is back',
    { timeout: 60_000 },
    async (t) => {
      // A first call opens the sidecar's keep-alive connection, so SWF going away also cuts a live one.
      assert.equal((await client.fail({ taskToken: 'before-outage' })).outcome, 'OUTCOME_DELIVERED');
      await fake.refuseConnections(true);
      const callsBeforeOutage = fake.calls.length;

      // CONFIRMED, single and in a batch: UNAVAILABLE once the attempts are spent.
      const [single, batch] = await Promise.all([
        client.failError({ taskToken: 'confirmed-single', delivery: 'DELIVERY_CONFIRMED' }, { deadlineMs: 30_000 }),
        client.failMany({
          tasks: [
            { taskToken: 'confirmed-batch-1', delivery: 'DELIVERY_CONFIRMED' },
            { taskToken: 'confirmed-batch-2', delivery: 'DELIVERY_CONFIRMED' },
          ],
        }),
      ]);
      assert.equal(single.code, status.UNAVAILABLE, single.details);
      assert.match(single.details, new RegExp(`could not be reached after ${CONFIRMED_ATTEMPTS} attempts`));
      assert.match(single.details, /ECONNREFUSED|ECONNRESET|socket hang up/);
      for (const result of batch.results) {
        assert.equal(result.code, status.UNAVAILABLE, result.message);
        assert.match(result.message, new RegExp(`after ${CONFIRMED_ATTEMPTS} attempts`));
        assert.equal(result.outcome, 'OUTCOME_UNSPECIFIED');
      }

      // QUEUED: accepted at once, then kept while SWF stays away.
      const queued = tokens('queued-during-outage', QUEUED_REPORTS);
      const responses = await Promise.all(
        queued.map((taskToken) => client.fail({ taskToken, delivery: 'DELIVERY_QUEUED' })),
      );
      assert.ok(responses.every((response) => response.outcome === 'OUTCOME_QUEUED' && response.attempts === 0));

      // "A while": until every QUEUED report has been tried and refused several times.
      let text = '';
      const transientCalls = (): number => sumOf(text, 'swf_sidecar_swf_requests_total', { outcome: 'transient' });
      await until(
        async () => {
          text = await metricsText(sidecar);
          return transientCalls() >= 3 * CONFIRMED_ATTEMPTS + 5 * QUEUED_REPORTS;
        },
        { timeoutMs: 30_000, intervalMs: 100, describe: () => `${transientCalls()} refused calls` },
      );
      assert.equal(fake.calls.length, callsBeforeOutage, 'nothing reached SWF while it was down');
      assert.equal(sumOf(text, 'swf_sidecar_queue_items'), QUEUED_REPORTS, 'the QUEUED reports are still waiting');
      assert.equal(sumOf(text, 'swf_sidecar_deliveries_total', { mode: 'queued' }), 0, 'no QUEUED report given up');
      assert.equal(sumOf(text, 'swf_sidecar_deliveries_total', { mode: 'confirmed', result: 'unavailable' }), 3);
      assert.equal((await fetch(`http://${sidecar.metricsAddress}/readyz`)).status, 200, 'still ready for callers');

      // SWF back: every QUEUED report goes out, exactly once.
      await fake.refuseConnections(false);
      await until(() => queued.every((token) => acceptedTokens(fake).has(token)), {
        timeoutMs: 20_000,
        describe: () => `SWF accepted ${acceptedTokens(fake).size - 1} of ${QUEUED_REPORTS}`,
      });
      await until(
        async () => {
          text = await metricsText(sidecar);
          return sumOf(text, 'swf_sidecar_queue_items') === 0;
        },
        { timeoutMs: 10_000, describe: () => `queue ${sumOf(text, 'swf_sidecar_queue_items')}` },
      );
      assert.equal(
        sumOf(text, 'swf_sidecar_deliveries_total', { mode: 'queued', result: 'delivered' }),
        QUEUED_REPORTS,
      );
      assert.deepEqual(acceptedMoreThanOnce(fake), []);
      // The CONFIRMED ones were given up on and never sent once SWF came back.
      assert.ok(!acceptedTokens(fake).has('confirmed-single'));
      // And a CONFIRMED call works again.
      assert.equal((await client.fail({ taskToken: 'after-outage' })).outcome, 'OUTCOME_DELIVERED');
      t.diagnostic(`${transientCalls()} calls refused during the outage`);
    },
  );
});
