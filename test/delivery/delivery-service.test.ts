import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SidecarError } from '../../src/errors.js';
import { settle } from '../support/manual-clock.js';
import { createTestPipeline, metricValue } from '../support/pipeline-harness.js';
import { DELIVERED, rejected } from '../support/scripted-swf.js';

const asError = (promise: Promise<unknown>) =>
  promise.then(
    (value) => assert.fail(`expected an error, got ${JSON.stringify(value)}`),
    (error: unknown) => error as SidecarError,
  );

describe('DeliveryService: duplicates', () => {
  it('joins a second caller to the delivery in flight: one SWF call, the same answer', async () => {
    const { swf, service, metrics } = createTestPipeline();
    const first = service.submit({ taskToken: 'a', reason: 'one' }, 'confirmed');
    const second = service.submit({ taskToken: 'a', reason: 'two' }, 'confirmed');
    const queued = service.submit({ taskToken: 'a' }, 'queued');
    await settle();
    assert.equal(swf.calls.length, 1);
    assert.equal(swf.calls[0]?.report.reason, 'one', 'the first report is the one sent');
    assert.deepEqual(await queued, { outcome: 'queued', attempts: 0 });
    swf.calls[0]?.answer(DELIVERED);
    assert.deepEqual(await first, { outcome: 'delivered', attempts: 1 });
    assert.deepEqual(await second, { outcome: 'delivered', attempts: 1 });
    assert.equal(await metricValue(metrics, 'swf_sidecar_duplicates_total', { kind: 'joined' }), 2);
  });

  it('gives joined callers the same error', async () => {
    const { service } = createTestPipeline({}, () => rejected('not-found', 'UnknownResourceFault'));
    const [a, b] = await Promise.all([
      asError(service.submit({ taskToken: 'a' }, 'confirmed')),
      asError(service.submit({ taskToken: 'a' }, 'confirmed')),
    ]);
    assert.equal(a.kind, 'not-found');
    assert.equal(b, a);
  });

  it('answers DELIVERED for a token delivered within the TTL without calling SWF, and calls again after', async () => {
    const { swf, service, clock, metrics } = createTestPipeline({ dedupTtlMs: 60_000 }, () => DELIVERED);
    await service.submit({ taskToken: 'a' }, 'confirmed');
    assert.deepEqual(await service.submit({ taskToken: 'a' }, 'confirmed'), { outcome: 'delivered', attempts: 0 });
    assert.deepEqual(await service.submit({ taskToken: 'a' }, 'queued'), { outcome: 'delivered', attempts: 0 });
    assert.equal(swf.calls.length, 1);
    assert.equal(await metricValue(metrics, 'swf_sidecar_duplicates_total', { kind: 'recently_delivered' }), 2);
    await clock.advance(60_000);
    await service.submit({ taskToken: 'a' }, 'confirmed');
    assert.equal(swf.calls.length, 2);
  });

  it('does not remember a token SWF refused', async () => {
    const { swf, service } = createTestPipeline({}, () => rejected('not-found', 'UnknownResourceFault'));
    await asError(service.submit({ taskToken: 'a' }, 'confirmed'));
    await asError(service.submit({ taskToken: 'a' }, 'confirmed'));
    assert.equal(swf.calls.length, 2);
  });
});

describe('DeliveryService: admission', () => {
  it('refuses invalid reports before queueing, and counts them', async () => {
    const { swf, service, metrics } = createTestPipeline();
    const error = await asError(service.submit({ taskToken: 'a', reason: 'x'.repeat(257) }, 'queued'));
    assert.equal(error.kind, 'invalid-argument');
    assert.equal(swf.calls.length, 0);
    assert.equal(await metricValue(metrics, 'swf_sidecar_rejections_total', { reason: 'invalid_argument' }), 1);
  });

  it('refuses at once when the item bound is reached, with a retry-after estimate', async () => {
    const { service, metrics } = createTestPipeline({ maxQueueItems: 2 });
    await service.submit({ taskToken: 'a' }, 'queued');
    await service.submit({ taskToken: 'b' }, 'queued');
    const error = await asError(service.submit({ taskToken: 'c' }, 'queued'));
    assert.equal(error.kind, 'resource-exhausted');
    assert.ok((error.retryAfterMs ?? 0) >= 100);
    assert.match(error.message, /queue is full \(2 reports/);
    assert.equal(await metricValue(metrics, 'swf_sidecar_rejections_total', { reason: 'queue_full' }), 1);
    assert.equal(await metricValue(metrics, 'swf_sidecar_queue_items'), 2);
  });

  it('refuses when the byte bound is reached, and frees room as reports settle', async () => {
    const { swf, service } = createTestPipeline({ maxQueueBytes: 2_000 });
    await service.submit({ taskToken: 'a', details: 'd'.repeat(1_500) }, 'queued');
    assert.equal(
      (await asError(service.submit({ taskToken: 'b', details: 'd'.repeat(500) }, 'queued'))).kind,
      'resource-exhausted',
    );
    await settle();
    swf.calls[0]?.answer(DELIVERED);
    await settle();
    assert.deepEqual(service.stats(), { items: 0, bytes: 0 });
    assert.deepEqual(await service.submit({ taskToken: 'b', details: 'd'.repeat(500) }, 'queued'), {
      outcome: 'queued',
      attempts: 0,
    });
  });
});

describe('DeliveryService: drain', () => {
  it('delivers everything within the grace period, refusing new reports meanwhile', async () => {
    const { swf, service, metrics } = createTestPipeline();
    await Promise.all(['a', 'b', 'c'].map((token) => service.submit({ taskToken: token }, 'queued')));
    const drained = service.drain(10_000);
    const late = await asError(service.submit({ taskToken: 'late' }, 'queued'));
    assert.equal(late.kind, 'unavailable');
    assert.match(late.message, /shutting down/);
    await settle();
    for (const call of swf.calls) call.answer(DELIVERED);
    assert.deepEqual(await drained, { delivered: true, undelivered: 0 });
    assert.equal(await metricValue(metrics, 'swf_sidecar_rejections_total', { reason: 'shutting_down' }), 1);
  });

  it('ends what is left at the grace period: callers told UNAVAILABLE, counted, SWF calls aborted', async () => {
    const { swf, service, clock, metrics } = createTestPipeline({ ratePerSecond: 1, burst: 1 });
    const confirmed = asError(service.submit({ taskToken: 'a' }, 'confirmed'));
    await service.submit({ taskToken: 'b' }, 'queued');
    const drained = service.drain(5_000);
    await clock.advance(5_000);
    const report = await drained;
    assert.equal(report.undelivered, 2, 'both were in flight when the grace period ended');
    const error = await confirmed;
    assert.equal(error.kind, 'unavailable');
    assert.match(error.message, /shut down before SWF confirmed/);
    assert.ok(swf.calls[0]?.signal.aborted, 'the in-flight SWF call was cancelled');
    assert.equal(await metricValue(metrics, 'swf_sidecar_deliveries_total', { result: 'undelivered_at_shutdown' }), 2);
    assert.deepEqual(service.stats(), { items: 0, bytes: 0 });
  });
});
