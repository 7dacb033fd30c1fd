import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { HotCounter, HotHistogram } from '../../src/ops/hot-path-metrics.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];

/** The same metrics twice: prom-client's classes in one registry, ours in the other. */
function pair(): {
  theirs: Registry;
  ours: Registry;
  counter: { theirs: Counter<'method' | 'code'>; ours: HotCounter<'method' | 'code'> };
  plainCounter: { theirs: Counter; ours: HotCounter };
  histogram: { theirs: Histogram<'outcome'>; ours: HotHistogram<'outcome'> };
  plainHistogram: { theirs: Histogram; ours: HotHistogram };
} {
  const theirs = new Registry();
  const ours = new Registry();
  const c = { name: 'calls_total', help: 'Calls "done", by method\\code.', labelNames: ['method', 'code'] as const };
  const pc = { name: 'plain_total', help: 'Plain.' };
  const h = { name: 'call_seconds', help: 'Call time.', labelNames: ['outcome'] as const, buckets: BUCKETS };
  const ph = { name: 'wait_seconds', help: 'Wait.', buckets: BUCKETS };
  return {
    theirs,
    ours,
    counter: {
      theirs: new Counter({ ...c, labelNames: [...c.labelNames], registers: [theirs] }),
      ours: new HotCounter({ ...c, registers: [ours] }),
    },
    plainCounter: {
      theirs: new Counter({ ...pc, registers: [theirs] }),
      ours: new HotCounter({ ...pc, registers: [ours] }),
    },
    histogram: {
      theirs: new Histogram({ ...h, labelNames: [...h.labelNames], buckets: [...BUCKETS], registers: [theirs] }),
      ours: new HotHistogram({ ...h, registers: [ours] }),
    },
    plainHistogram: {
      theirs: new Histogram({ ...ph, buckets: [...BUCKETS], registers: [theirs] }),
      ours: new HotHistogram({ ...ph, registers: [ours] }),
    },
  };
}

/** `get()` values without prom-client's exemplar field (never used here). */
async function valuesOf(registry: Registry, name: string): Promise<unknown> {
  const metric = registry.getSingleMetric(name);
  assert.ok(metric !== undefined, name);
  const data = await metric.get();
  return {
    ...data,
    values: data.values.map((v) => {
      const rest: Partial<typeof v & { exemplar: unknown }> = { ...v };
      delete rest.exemplar;
      return rest;
    }),
  };
}

async function assertSameExposition(p: ReturnType<typeof pair>): Promise<void> {
  assert.equal(await p.ours.metrics(), await p.theirs.metrics());
  for (const name of ['calls_total', 'plain_total', 'call_seconds', 'wait_seconds']) {
    assert.deepEqual(await valuesOf(p.ours, name), await valuesOf(p.theirs, name), name);
  }
}

describe('hot-path metrics', () => {
  it('export what prom-client exports before anything is counted', async () => {
    const p = pair();
    await assertSameExposition(p);
    assert.match(await p.ours.metrics(), /^plain_total 0$/m);
    assert.match(await p.ours.metrics(), /^wait_seconds_bucket\{le="\+Inf"\} 0$/m);
    assert.doesNotMatch(await p.ours.metrics(), /calls_total\{/);
  });

  it('export what prom-client exports for the same counts and observations', async () => {
    const p = pair();
    const ok = p.counter.ours.labels({ method: 'Fail', code: 'OK' });
    for (let i = 0; i < 3; i += 1) {
      ok.inc();
      p.counter.theirs.inc({ method: 'Fail', code: 'OK' });
    }
    p.counter.ours.inc({ method: 'Fail', code: 'INVALID_ARGUMENT' }, 2);
    p.counter.theirs.inc({ method: 'Fail', code: 'INVALID_ARGUMENT' }, 2);
    p.counter.ours.inc({ method: 'Other', code: 'x"y\\z\n' });
    p.counter.theirs.inc({ method: 'Other', code: 'x"y\\z\n' });
    p.plainCounter.ours.inc({}, 0.5);
    p.plainCounter.theirs.inc(0.5);
    // On a bound, between bounds, above every bound, negative and zero.
    for (const value of [0.001, 0.0011, 0.05, 1, 7, -1, 0]) {
      p.histogram.ours.labels({ outcome: 'delivered' }).observe(value);
      p.histogram.theirs.observe({ outcome: 'delivered' }, value);
      p.plainHistogram.ours.observe(value * 2);
      p.plainHistogram.theirs.observe(value * 2);
    }
    p.histogram.ours.labels({ outcome: 'throttled' }).observe(0.2);
    p.histogram.theirs.observe({ outcome: 'throttled' }, 0.2);
    await assertSameExposition(p);
    assert.match(await p.ours.metrics(), /^calls_total\{method="Fail",code="OK"\} 3$/m);
    assert.match(await p.ours.metrics(), /^call_seconds_bucket\{le="0\.01",outcome="delivered"\} 4$/m);
    assert.match(await p.ours.metrics(), /^call_seconds_count\{outcome="delivered"\} 7$/m);
  });

  it('reset as prom-client does, and children kept by callers go on counting', async () => {
    const p = pair();
    const ok = p.counter.ours.labels({ method: 'Fail', code: 'OK' });
    const delivered = p.histogram.ours.labels({ outcome: 'delivered' });
    ok.inc();
    delivered.observe(0.3);
    p.plainHistogram.ours.observe(0.3);
    p.counter.theirs.inc({ method: 'Fail', code: 'OK' });
    p.histogram.theirs.observe({ outcome: 'delivered' }, 0.3);
    p.plainHistogram.theirs.observe(0.3);
    p.ours.resetMetrics();
    p.theirs.resetMetrics();
    await assertSameExposition(p);
    ok.inc(4);
    delivered.observe(2);
    p.counter.theirs.inc({ method: 'Fail', code: 'OK' }, 4);
    p.histogram.theirs.observe({ outcome: 'delivered' }, 2);
    await assertSameExposition(p);
    assert.match(await p.ours.metrics(), /^calls_total\{method="Fail",code="OK"\} 4$/m);
  });

  it('export labels in the order of labelNames, whatever the order they were given in', async () => {
    const p = pair();
    p.counter.ours.inc({ code: 'OK', method: 'Fail' });
    assert.match(await p.ours.metrics(), /^calls_total\{method="Fail",code="OK"\} 1$/m);
    assert.equal(
      p.counter.ours.labels({ code: 'OK', method: 'Fail' }),
      p.counter.ours.labels({ method: 'Fail', code: 'OK' }),
    );
  });

  it('refuse what prom-client refuses: a missing label, a value that is not a number', () => {
    const p = pair();
    assert.throws(() => p.counter.ours.inc({ method: 'Fail' } as never), /label "code" missing/);
    assert.throws(() => p.histogram.ours.labels({ outcome: 'delivered' }).observe(Number.NaN), TypeError);
  });

  it('take one name per registry, as prom-client does', () => {
    const registry = new Registry();
    new HotCounter({ name: 'same_total', help: 'x', registers: [registry] });
    assert.throws(
      () => new Counter({ name: 'same_total', help: 'y', registers: [registry] }),
      /already been registered/,
    );
  });
});
