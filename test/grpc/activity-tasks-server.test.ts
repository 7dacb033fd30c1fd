import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { startTestSidecar, type TestSidecar } from '../support/in-process-sidecar.js';
import { settle } from '../support/manual-clock.js';
import { until } from '../support/until.js';
import { healthStatus, reflectedServices } from '../support/ops-clients.js';
import { DELIVERED, ScriptedSwf, THROTTLED, TRANSIENT, plainReport, rejected } from '../support/scripted-swf.js';

const quickRetries = { retryBaseDelayMs: 1, retryMaxDelayMs: 2, retryMaxAttempts: 3 };

describe('ActivityTasks over a real gRPC server and client', () => {
  const sidecars: TestSidecar[] = [];
  after(async () => {
    for (const sidecar of sidecars) await sidecar.close();
  });
  const start = async (swf: ScriptedSwf, overrides: Parameters<typeof startTestSidecar>[0] = {}) => {
    const sidecar = await startTestSidecar({ ...quickRetries, ...overrides }, { swf });
    sidecars.push(sidecar);
    return sidecar;
  };

  it('CONFIRMED: OK + OUTCOME_DELIVERED with the attempts, and SWF gets exactly the fields given', async () => {
    const swf = new ScriptedSwf((_r, index) => (index === 0 ? THROTTLED : DELIVERED));
    const { client } = await start(swf);
    const response = await client.fail({ taskToken: 'tok-1', reason: '', details: 'ünïcødé ✓' });
    assert.deepEqual(response, { outcome: 'OUTCOME_DELIVERED', attempts: 2 });
    assert.deepEqual(plainReport(swf.calls[0]!.report), { taskToken: 'tok-1', reason: '', details: 'ünïcødé ✓' });
    await client.fail({ taskToken: 'tok-2' });
    assert.deepEqual(plainReport(swf.callsFor('tok-2')[0]!.report), {
      taskToken: 'tok-2',
      reason: undefined,
      details: undefined,
    });
  });

  const mappings = [
    ['UnknownResourceFault', () => rejected('not-found', 'UnknownResourceFault'), status.NOT_FOUND],
    [
      'OperationNotPermittedFault',
      () => rejected('permission-denied', 'OperationNotPermittedFault'),
      status.PERMISSION_DENIED,
    ],
    ['ValidationException', () => rejected('invalid-argument', 'ValidationException'), status.INVALID_ARGUMENT],
    ['throttling until the budget ends', () => THROTTLED, status.RESOURCE_EXHAUSTED],
    ['transient errors until the budget ends', () => TRANSIENT, status.UNAVAILABLE],
  ] as const;
  for (const [name, answer, code] of mappings) {
    it(`maps ${name} to ${status[code]}, carrying SWF's message and request id`, async () => {
      const { client } = await start(new ScriptedSwf(answer));
      const error = await client.failError({ taskToken: `tok-${name}` });
      assert.equal(error.code, code);
      assert.match(error.details, /request id req-/);
      const pushback = error.metadata.get('grpc-retry-pushback-ms')[0];
      assert.equal(
        pushback,
        code === status.RESOURCE_EXHAUSTED ? '-1' : undefined,
        'no automatic retry after throttling',
      );
    });
  }

  it('refuses bad fields with INVALID_ARGUMENT before calling SWF', async () => {
    const swf = new ScriptedSwf(() => DELIVERED);
    const { client } = await start(swf);
    const cases = [
      [{ taskToken: '' }, /task_token is required/],
      [{ taskToken: 'x'.repeat(1025) }, /task_token is 1025 characters long; the limit is 1024/],
      [{ taskToken: 't', reason: 'r'.repeat(257) }, /reason is 257 characters long; the limit is 256/],
      [{ taskToken: 't', details: 'd'.repeat(32_769) }, /details is 32769 characters long; the limit is 32768/],
      [{ taskToken: 't', delivery: 9 }, /delivery 9 is not a known Delivery value/],
    ] as const;
    for (const [request, message] of cases) {
      const error = await client.failError(request);
      assert.equal(error.code, status.INVALID_ARGUMENT);
      assert.match(error.details, message);
    }
    assert.equal(swf.calls.length, 0);
  });

  it('QUEUED: answers OUTCOME_QUEUED before SWF has answered, then delivers', async () => {
    const swf = new ScriptedSwf();
    const sidecar = await start(swf);
    const response = await sidecar.client.fail({ taskToken: 'q-1', delivery: 'DELIVERY_QUEUED' });
    assert.deepEqual(response, { outcome: 'OUTCOME_QUEUED', attempts: 0 });
    await swf.untilCalls(1);
    swf.calls[0]?.answer(DELIVERED);
    await settle();
    assert.equal(await sidecar.sample('swf_sidecar_deliveries_total{mode="queued",result="delivered"}'), 1);
  });

  it('UNSPECIFIED delivery follows SWF_SIDECAR_DEFAULT_DELIVERY', async () => {
    const { client } = await start(new ScriptedSwf(), { defaultDelivery: 'queued' });
    assert.deepEqual(await client.fail({ taskToken: 'd-1' }), { outcome: 'OUTCOME_QUEUED', attempts: 0 });
  });

  it('FailActivityTasks: one result per item in order, a bad item failing alone', async () => {
    const swf = new ScriptedSwf((report) =>
      report.taskToken === 'gone' ? rejected('not-found', 'UnknownResourceFault') : DELIVERED,
    );
    const { client } = await start(swf, { maxBatchRequestItems: 4 });
    const { results } = await client.failMany({
      tasks: [
        { taskToken: 'b-1', reason: 'r' },
        { taskToken: '' },
        { taskToken: 'gone' },
        { taskToken: 'b-2', delivery: 'DELIVERY_QUEUED' },
      ],
    });
    assert.deepEqual(
      results.map((result) => [result.code, result.outcome, result.attempts]),
      [
        [status.OK, 'OUTCOME_DELIVERED', 1],
        [status.INVALID_ARGUMENT, 'OUTCOME_UNSPECIFIED', 0],
        [status.NOT_FOUND, 'OUTCOME_UNSPECIFIED', 0],
        [status.OK, 'OUTCOME_QUEUED', 0],
      ],
    );
    assert.match(results[1]?.message ?? '', /task_token is required/);
    assert.equal(results[0]?.message, '');
  });

  it('FailActivityTasks: refuses an empty or oversized batch whole', async () => {
    const swf = new ScriptedSwf(() => DELIVERED);
    const { client } = await start(swf, { maxBatchRequestItems: 2 });
    for (const tasks of [[], [{ taskToken: 'a' }, { taskToken: 'b' }, { taskToken: 'c' }]]) {
      await assert.rejects(client.failMany({ tasks }), (error: { code: number; details: string }) => {
        assert.equal(error.code, status.INVALID_ARGUMENT);
        assert.match(error.details, new RegExp(`tasks has ${tasks.length} items; a batch takes 1 to 2`));
        return true;
      });
    }
    assert.equal(swf.calls.length, 0);
  });

  it('backpressure: a full queue refuses at once with RESOURCE_EXHAUSTED and a retry-after-ms trailer', async () => {
    const swf = new ScriptedSwf();
    const sidecar = await start(swf, { maxQueueItems: 1 });
    await sidecar.client.fail({ taskToken: 'held', delivery: 'DELIVERY_QUEUED' });
    const error = await sidecar.client.failError({ taskToken: 'refused', delivery: 'DELIVERY_QUEUED' });
    assert.equal(error.code, status.RESOURCE_EXHAUSTED);
    const retryAfter = Number(error.metadata.get('retry-after-ms')[0]);
    assert.ok(retryAfter >= 100, `retry-after-ms ${retryAfter}`);
    assert.equal(Number(error.metadata.get('grpc-retry-pushback-ms')[0]), retryAfter, "gRPC's own pushback too");
    assert.equal(await sidecar.sample('swf_sidecar_rejections_total{reason="queue_full"}'), 1);
    await swf.untilCalls(1);
    swf.calls[0]?.answer(DELIVERED);
  });

  it('duplicates: concurrent calls for one token make one SWF call; a retry after delivery makes none', async () => {
    const swf = new ScriptedSwf();
    const sidecar = await start(swf);
    const first = sidecar.client.fail({ taskToken: 'dup' });
    const second = sidecar.client.fail({ taskToken: 'dup' });
    await swf.untilCalls(1);
    for (let i = 0; i < 50; i += 1) await settle();
    swf.calls[0]?.answer(DELIVERED);
    assert.deepEqual(await first, { outcome: 'OUTCOME_DELIVERED', attempts: 1 });
    assert.deepEqual(await second, { outcome: 'OUTCOME_DELIVERED', attempts: 1 });
    assert.deepEqual(await sidecar.client.fail({ taskToken: 'dup' }), { outcome: 'OUTCOME_DELIVERED', attempts: 0 });
    assert.equal(swf.calls.length, 1);
    assert.equal(await sidecar.sample('swf_sidecar_duplicates_total{kind="joined"}'), 1);
  });

  it('a caller whose deadline passes gets DEADLINE_EXCEEDED, and the report is still delivered', async () => {
    const swf = new ScriptedSwf();
    const sidecar = await start(swf);
    const error = sidecar.client.failError({ taskToken: 'late-caller' }, { deadlineMs: 100 });
    await swf.untilCalls(1);
    // The server's own deadline is its receipt time + 100 ms: no later than 100 ms from now. Before
    // it, the server knows only of the client's RST_STREAM, which looks like a cancellation. The
    // deadline is a wall-clock date (no fake clock reaches it), so wait for the date itself.
    const serverDeadlinePassed = Date.now() + 100;
    assert.equal((await error).code, status.DEADLINE_EXCEEDED);
    assert.equal(swf.calls[0]?.signal.aborted, false, 'the SWF call goes on');
    await until(() => Date.now() > serverDeadlinePassed, { timeoutMs: 1_000, describe: () => 'the deadline' });
    swf.calls[0]?.answer(DELIVERED);
    await settle();
    assert.equal(await sidecar.sample('swf_sidecar_deliveries_total{mode="confirmed",result="delivered"}'), 1);
    // The server records the status when the handler ends, which the client (gone at its deadline)
    // does not wait for: wait for the record, then check its code.
    const handled = (code: string) =>
      sidecar.sample(
        `grpc_server_handled_total{grpc_type="unary",grpc_service="swfsidecar.v1.ActivityTasks",grpc_method="FailActivityTask",grpc_code="${code}"}`,
      );
    const codes = ['OK', 'CANCELLED', 'DEADLINE_EXCEEDED'];
    let recorded: number[] = [];
    await until(
      async () => {
        recorded = await Promise.all(codes.map(handled));
        return recorded.some((count) => count > 0);
      },
      { timeoutMs: 5_000, intervalMs: 10, describe: () => 'a grpc_server_handled_total sample' },
    );
    assert.deepEqual(recorded, [0, 0, 1], `${codes.join(', ')}`);
  });

  it('a caller that cancels gets CANCELLED, and the report is still delivered', async () => {
    const swf = new ScriptedSwf();
    const sidecar = await start(swf);
    const method = (
      sidecar.client.raw as unknown as Record<
        string,
        (r: unknown, cb: (e: { code: number } | null) => void) => { cancel(): void }
      >
    )['FailActivityTask'];
    const outcome = new Promise<number>((resolve) => {
      const call = method!.call(sidecar.client.raw, { taskToken: 'quitter' }, (error) => resolve(error?.code ?? 0));
      void swf.untilCalls(1).then(() => call.cancel());
    });
    assert.equal(await outcome, status.CANCELLED);
    swf.calls[0]?.answer(DELIVERED);
    await settle();
    assert.equal(await sidecar.sample('swf_sidecar_deliveries_total{mode="confirmed",result="delivered"}'), 1);
  });

  it('health, readiness, reflection and metrics', async () => {
    const sidecar = await start(new ScriptedSwf(() => DELIVERED));
    assert.equal(await healthStatus(sidecar.sidecar.grpcAddress), 'SERVING');
    assert.equal(await healthStatus(sidecar.sidecar.grpcAddress, 'swfsidecar.v1.ActivityTasks'), 'SERVING');
    assert.deepEqual((await reflectedServices(sidecar.sidecar.grpcAddress)).sort(), [
      'grpc.health.v1.Health',
      'swfsidecar.v1.ActivityTasks',
    ]);
    const base = `http://${sidecar.sidecar.metricsAddress}`;
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    await sidecar.client.fail({ taskToken: 'secret-token-abc123' });
    const text = await sidecar.metricsText();
    assert.doesNotMatch(text, /secret-token-abc123/);
    for (const name of [
      'grpc_server_started_total',
      'grpc_server_handled_total',
      'grpc_server_handling_seconds_bucket',
      'swf_sidecar_swf_requests_total',
      'swf_sidecar_swf_request_duration_seconds_bucket',
      'swf_sidecar_queue_items',
      'swf_sidecar_queue_bytes',
      'swf_sidecar_batch_size_bucket',
      'swf_sidecar_rate_limit_wait_seconds_total',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      assert.match(text, new RegExp(`^${name}`, 'm'), name);
    }
  });

  it('shutdown: NOT_SERVING and not ready, new calls UNAVAILABLE, the queue drains, then it stops', async () => {
    const swf = new ScriptedSwf();
    const sidecar = await startTestSidecar({ shutdownGraceMs: 10_000 }, { swf });
    const waiting = sidecar.client.fail({ taskToken: 'in-flight' });
    await swf.untilCalls(1);
    const stopped = sidecar.sidecar.shutdown();
    await settle();
    assert.equal(await healthStatus(sidecar.sidecar.grpcAddress), 'NOT_SERVING');
    assert.equal((await fetch(`http://${sidecar.sidecar.metricsAddress}/readyz`)).status, 503);
    const refused = await sidecar.client.failError({ taskToken: 'newcomer' });
    assert.equal(refused.code, status.UNAVAILABLE);
    swf.calls[0]?.answer(DELIVERED);
    assert.deepEqual(await waiting, { outcome: 'OUTCOME_DELIVERED', attempts: 1 });
    assert.deepEqual(await stopped, { undelivered: 0 });
    sidecar.client.close();
  });
});
