import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { connectClient, type ActivityTasksTestClient } from '../support/grpc-client.js';
import {
  activityTaskFailedEvents,
  openActivityTasks,
  startMoto,
  type Moto,
  type OpenedActivityTask,
} from '../support/moto.js';
import { spawnSidecar, type SidecarProcess } from '../support/sidecar-process.js';

/**
 * The built sidecar, as a separate process, in front of moto (a real SWF emulator speaking SWF's
 * wire protocol): real activity tasks are failed through it and read back from history.
 */
describe('end to end against moto', () => {
  let moto: Moto;
  let sidecar: SidecarProcess;
  let client: ActivityTasksTestClient;

  before(async () => {
    moto = await startMoto();
    sidecar = await spawnSidecar({
      AWS_ENDPOINT_URL_SWF: moto.url,
      SWF_SIDECAR_RATE_PER_SECOND: '1000',
      SWF_SIDECAR_BURST: '1000',
      SWF_SIDECAR_LOG_LEVEL: 'warn',
    });
    client = connectClient(sidecar.grpcAddress);
  });
  after(async () => {
    client?.close();
    await sidecar?.stop();
    await moto?.stop();
  });

  const variants = [
    { reason: 'plain reason', details: 'plain details' },
    { reason: 'ünïcødé reason ✓', details: 'ünïcødé ✓ 日本語 🚀 details' },
    { details: 'details without a reason' },
    { reason: 'r'.repeat(256), details: `${'d'.repeat(32_767)}é` },
    { reason: 'reason without details' },
  ];
  const reportFor = (index: number) => variants[index % variants.length]!;

  async function assertHistory(task: OpenedActivityTask, index: number): Promise<void> {
    const events = await activityTaskFailedEvents(moto, task);
    assert.equal(events.length, 1, `one ActivityTaskFailed event for task ${index}`);
    const expected = reportFor(index);
    assert.equal(events[0]?.reason, expected.reason, `reason of task ${index}`);
    assert.equal(events[0]?.details, expected.details, `details of task ${index}`);
  }

  it('fails 100 real tasks concurrently, 50 by single calls and 50 in batches, with exact history', async () => {
    const tasks = await openActivityTasks(moto, 100);
    const singles = tasks.slice(0, 50).map(async (task, index) => {
      const response = await client.fail({ taskToken: task.taskToken, ...reportFor(index) });
      assert.equal(response.outcome, 'OUTCOME_DELIVERED');
      assert.equal(response.attempts, 1);
    });
    const batches = [tasks.slice(50, 75), tasks.slice(75, 100)].map(async (batch, b) => {
      const { results } = await client.failMany({
        tasks: batch.map((task, i) => ({ taskToken: task.taskToken, ...reportFor(50 + b * 25 + i) })),
      });
      assert.equal(results.length, 25);
      for (const result of results) assert.deepEqual([result.code, result.outcome], [status.OK, 'OUTCOME_DELIVERED']);
    });
    await Promise.all([...singles, ...batches]);
    for (const [index, task] of tasks.entries()) await assertHistory(task, index);
  });

  it('QUEUED: answers at once and the failure reaches history', async () => {
    const [task] = await openActivityTasks(moto, 1);
    assert.ok(task);
    const response = await client.fail({ taskToken: task.taskToken, ...reportFor(1), delivery: 'DELIVERY_QUEUED' });
    assert.deepEqual(response, { outcome: 'OUTCOME_QUEUED', attempts: 0 });
    let events = await activityTaskFailedEvents(moto, task);
    for (let i = 0; i < 100 && events.length === 0; i += 1) {
      await new Promise((resolve) => setImmediate(resolve));
      events = await activityTaskFailedEvents(moto, task);
    }
    await assertHistory(task, 1);
  });

  it('a second failure of the same token answers DELIVERED from the recent window; SWF is not called again', async () => {
    const [task] = await openActivityTasks(moto, 1);
    assert.ok(task);
    await client.fail({ taskToken: task.taskToken, ...reportFor(0) });
    const again = await client.fail({ taskToken: task.taskToken, reason: 'second' });
    assert.deepEqual(again, { outcome: 'OUTCOME_DELIVERED', attempts: 0 });
    await assertHistory(task, 0);
  });

  it("a second failure beyond the recent window meets moto's HTTP 500 quirk: retried, then UNAVAILABLE", async () => {
    // Real SWF answers UnknownResourceFault (-> NOT_FOUND). moto answers an HTML 500 page, which
    // is indistinguishable from a server fault, so the sidecar retries it and reports UNAVAILABLE.
    const [task] = await openActivityTasks(moto, 1);
    assert.ok(task);
    const forgetful = await spawnSidecar({
      AWS_ENDPOINT_URL_SWF: moto.url,
      SWF_SIDECAR_DEDUP_TTL_MS: '0',
      SWF_SIDECAR_RETRY_MAX_ATTEMPTS: '2',
      SWF_SIDECAR_RETRY_BASE_DELAY_MS: '10',
      SWF_SIDECAR_LOG_LEVEL: 'warn',
    });
    const forgetfulClient = connectClient(forgetful.grpcAddress);
    try {
      await forgetfulClient.fail({ taskToken: task.taskToken, ...reportFor(0) });
      const error = await forgetfulClient.failError({ taskToken: task.taskToken, reason: 'second' });
      assert.equal(error.code, status.UNAVAILABLE);
      assert.match(error.details, /after 2 attempts.*HTTP 500/);
      await assertHistory(task, 0);
    } finally {
      forgetfulClient.close();
      await forgetful.stop();
    }
  });

  it("a token moto does not know is refused with INVALID_ARGUMENT (moto's ValidationException)", async () => {
    const error = await client.failError({ taskToken: 'not-a-real-token' });
    assert.equal(error.code, status.INVALID_ARGUMENT);
    assert.match(error.details, /ValidationException/);
  });
});
