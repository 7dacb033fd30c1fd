import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { settle } from '../support/manual-clock.js';
import { createTestPipeline, metricValue } from '../support/pipeline-harness.js';
import { DELIVERED, REFUSED, THROTTLED, TRANSIENT, rejected } from '../support/scripted-swf.js';
import { SidecarError } from '../../src/errors.js';
import type { LimiterClient, RateLimiter } from '../../src/rate/rate-limiter.js';

/** A limiter that grants only what the test opens, and says a permit is a second away otherwise. */
class GateLimiter implements RateLimiter {
  open = 0;
  client: LimiterClient | undefined;
  tryAcquire(wanted: number): number {
    const granted = Math.min(wanted, this.open);
    this.open -= granted;
    return granted;
  }
  msUntilAvailable(): number {
    return this.open > 0 ? 0 : 1000;
  }
  onAnswer(): void {}
  currentRatePerSecond(): number {
    return 0;
  }
  attach(client: LimiterClient): void {
    this.client = client;
  }
}

describe('Dispatcher: when reports go out', () => {
  it('sends a lone report at once, with no timer to wait for', async () => {
    const { swf, service, clock } = createTestPipeline();
    const answer = service.submit({ taskToken: 'a' }, 'confirmed');
    await settle();
    assert.equal(swf.open.length, 1);
    assert.equal(clock.pendingTimers, 0);
    swf.calls[0]?.answer(DELIVERED);
    assert.deepEqual(await answer, { outcome: 'delivered', attempts: 1 });
  });

  it('sends reports accepted in the same turn as one concurrent batch', async () => {
    const { swf, service, metrics } = createTestPipeline();
    await Promise.all(Array.from({ length: 5 }, (_, i) => service.submit({ taskToken: `t${i}` }, 'queued')));
    await settle();
    assert.equal(swf.open.length, 5);
    assert.equal(await metricValue(metrics, 'swf_sidecar_batch_size_count'), 1);
    assert.equal(await metricValue(metrics, 'swf_sidecar_batch_size_sum'), 5);
  });

  it('caps a batch at maxBatchSize and in-flight calls at maxInFlight', async () => {
    const { swf, service, metrics } = createTestPipeline({ maxBatchSize: 3, maxInFlight: 7 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => service.submit({ taskToken: `t${i}` }, 'queued')));
    await settle();
    assert.equal(swf.open.length, 7, 'in-flight bound');
    assert.equal(await metricValue(metrics, 'swf_sidecar_batch_size_count'), 3, 'batches of 3, 3, 1');
    swf.calls[0]?.answer(DELIVERED);
    swf.calls[1]?.answer(DELIVERED);
    await settle();
    assert.equal(swf.calls.length, 9, 'two freed slots, two more sends');
  });

  it('holds the configured rate: the burst at once, then one permit per 1/rate', async () => {
    const { swf, service, clock, metrics } = createTestPipeline({ ratePerSecond: 10, burst: 6 }, () => DELIVERED);
    for (let i = 0; i < 30; i += 1) await service.submit({ taskToken: `t${i}` }, 'queued');
    await settle();
    assert.equal(swf.calls.length, 5, 'the burst of 6 less 100 ms of the rate');
    await clock.advance(100);
    assert.equal(swf.calls.length, 6);
    await clock.advance(1000);
    assert.equal(swf.calls.length, 16);
    assert.ok((await metricValue(metrics, 'swf_sidecar_rate_limit_wait_seconds_total')) >= 1);
  });
});

describe('Dispatcher: pacing while the rate holds reports back', () => {
  it('sends in groups every 50 ms, not one report per accepted call as permits trickle in', async () => {
    const { swf, service, clock } = createTestPipeline({ ratePerSecond: 200, burst: 40 }, () => DELIVERED);
    for (let i = 0; i < 100; i += 1) void service.submit({ taskToken: `held-${i}` }, 'queued');
    await settle();
    const afterBurst = swf.calls.length;
    assert.equal(afterBurst, 20, 'the burst of 40 less 100 ms of the rate');
    // New calls keep arriving every 5 ms, each bringing one permit's worth of time: none of them
    // sends on its own.
    for (let step = 1; step <= 9; step += 1) {
      void service.submit({ taskToken: `late-${step}` }, 'queued');
      await clock.advance(5);
      assert.equal(swf.calls.length, afterBurst, `nothing sent ${step * 5} ms in`);
    }
    await clock.advance(5);
    assert.equal(swf.calls.length, afterBurst + 10, 'the 10 permits of 50 ms, sent together');
  });

  it('goes at once when the limiter says permits arrived early, and tells it the backlog', async () => {
    const limiter = new GateLimiter();
    const { swf, service, clock } = createTestPipeline({}, () => DELIVERED, { limiter });
    for (let i = 0; i < 5; i += 1) void service.submit({ taskToken: `t${i}` }, 'queued');
    await settle();
    assert.equal(swf.calls.length, 0);
    assert.equal(limiter.client?.backlog(), 5);
    assert.equal(clock.pendingTimers, 1, 'waiting for the limiter, as it said: 1 s');
    limiter.open = 5;
    limiter.client?.permitsArrived();
    await settle();
    assert.equal(swf.calls.length, 5, 'sent without waiting for the second');
    assert.equal(clock.pendingTimers, 0, 'the wake-up was cancelled');
    limiter.client?.permitsArrived();
    await settle();
    assert.equal(swf.calls.length, 5, 'nothing waiting: nothing to do');
  });
});

describe('Dispatcher: abandoning the calls in flight', () => {
  it('aborts every call in flight together, and calls sent afterwards are not aborted', async () => {
    const { swf, service, dispatcher } = createTestPipeline();
    void service.submit({ taskToken: 'a' }, 'queued');
    void service.submit({ taskToken: 'b' }, 'queued');
    await settle();
    assert.equal(swf.open.length, 2);
    const abandoned = dispatcher.abandonAll(new SidecarError('unavailable', 'shutting down'));
    assert.equal(abandoned.length, 2);
    assert.ok(swf.calls.every((call) => call.signal.aborted));
    void service.submit({ taskToken: 'c' }, 'queued');
    await settle();
    assert.equal(swf.calls.length, 3);
    assert.equal(swf.calls[2]?.signal.aborted, false);
  });
});

describe('Dispatcher: retries and outcomes', () => {
  it('retries a throttled report with backoff and slows the limiter down', async () => {
    const { swf, service, clock, metrics, limiter } = createTestPipeline({}, (_report, index) =>
      index === 0 ? THROTTLED : DELIVERED,
    );
    const answer = service.submit({ taskToken: 'a' }, 'confirmed');
    await settle();
    assert.equal(swf.calls.length, 1);
    await clock.runAll();
    assert.deepEqual(await answer, { outcome: 'delivered', attempts: 2 });
    await clock.advance(1000);
    assert.equal(
      limiter.currentRatePerSecond(),
      800,
      'half the answers of the window throttled: 1000 x 0.75 + 100 x 0.5',
    );
    assert.equal(await metricValue(metrics, 'swf_sidecar_swf_retries_total', { reason: 'throttled' }), 1);
    assert.equal(await metricValue(metrics, 'swf_sidecar_swf_requests_total', { outcome: 'throttled' }), 1);
  });

  it('lets a report that waits to retry go of shared storage; one sent at once keeps it', async () => {
    const { service, clock } = createTestPipeline({}, (report) =>
      report.taskToken === 'slow' ? THROTTLED : DELIVERED,
    );
    const detached: string[] = [];
    const report = (taskToken: string) => ({ taskToken, detach: () => detached.push(taskToken) });
    void service.submit(report('slow'), 'queued');
    void service.submit(report('quick'), 'queued');
    await settle();
    assert.deepEqual(detached, ['slow']);
    await clock.advance(50);
    assert.deepEqual(detached, ['slow', 'slow'], 'once per retry');
  });

  it('gives up on throttling after maxAttempts with RESOURCE_EXHAUSTED', async () => {
    const { swf, service, clock } = createTestPipeline({ retryMaxAttempts: 4 }, () => THROTTLED);
    const answer = service.submit({ taskToken: 'a' }, 'confirmed').catch((error: unknown) => error);
    await clock.runAll();
    const error = (await answer) as { kind: string; message: string };
    assert.equal(error.kind, 'resource-exhausted');
    assert.match(error.message, /kept throttling after 4 attempts.*Rate exceeded.*request id req-throttled/);
    assert.equal(swf.calls.length, 4);
  });

  it('gives up on transient errors within the elapsed budget with UNAVAILABLE', async () => {
    const { swf, service, clock } = createTestPipeline(
      { retryMaxAttempts: 1000, retryMaxElapsedMs: 2000, retryBaseDelayMs: 100, retryMaxDelayMs: 400 },
      () => TRANSIENT,
    );
    const answer = service.submit({ taskToken: 'a' }, 'confirmed').catch((error: unknown) => error);
    const elapsed = await clock.runAll();
    assert.equal(((await answer) as { kind: string }).kind, 'unavailable');
    assert.ok(elapsed <= 2000, `stopped within the budget (${elapsed} ms)`);
    assert.ok(swf.calls.length > 3 && swf.calls.length < 20, `${swf.calls.length} attempts`);
  });

  it('gives QUEUED reports the longer QUEUED budget', async () => {
    const { swf, service, clock } = createTestPipeline(
      { retryMaxAttempts: 2, queuedRetryMaxAttempts: 6 },
      () => TRANSIENT,
    );
    await service.submit({ taskToken: 'a' }, 'queued');
    await clock.runAll();
    assert.equal(swf.calls.length, 6);
  });

  const finals = [
    ['UnknownResourceFault', 'not-found'],
    ['OperationNotPermittedFault', 'permission-denied'],
    ['ValidationException', 'invalid-argument'],
  ] as const;
  for (const [name, kind] of finals) {
    it(`ends at once on ${name} (${kind}), with SWF's message and request id`, async () => {
      const { swf, service } = createTestPipeline({}, () => rejected(kind, name));
      const error = (await service.submit({ taskToken: 'a' }, 'confirmed').catch((e: unknown) => e)) as {
        kind: string;
        message: string;
      };
      assert.equal(error.kind, kind);
      assert.match(error.message, new RegExp(`${name} \\(HTTP 400\\): SWF says no \\(request id req-${name}\\)`));
      assert.equal(swf.calls.length, 1);
    });
  }

  it('counts UnknownResourceFault after an attempt of unknown outcome as delivered', async () => {
    const { service, clock, metrics } = createTestPipeline({}, (_report, index) =>
      index === 0 ? TRANSIENT : rejected('not-found', 'UnknownResourceFault'),
    );
    const answer = service.submit({ taskToken: 'a' }, 'confirmed');
    await clock.runAll();
    assert.deepEqual(await answer, { outcome: 'delivered', attempts: 2 });
    assert.equal(await metricValue(metrics, 'swf_sidecar_presumed_delivered_total'), 1);
  });

  it('does not presume delivery after a refused connection (nothing was sent)', async () => {
    const { service, clock } = createTestPipeline({}, (_report, index) =>
      index === 0 ? REFUSED : rejected('not-found', 'UnknownResourceFault'),
    );
    const answer = service.submit({ taskToken: 'a' }, 'confirmed').catch((error: unknown) => error);
    await clock.runAll();
    assert.equal(((await answer) as { kind: string }).kind, 'not-found');
  });
});
