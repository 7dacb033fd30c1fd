import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { activityTaskFailedEvents, failDirectly, openActivityTasks, startMoto, type Moto } from './moto.js';

const NON_ASCII = 'ünïcødé ✓ 日本語 🚀';

async function withMoto<T>(fn: (moto: Moto) => Promise<T>): Promise<T> {
  const moto = await startMoto();
  try {
    return await fn(moto);
  } finally {
    await moto.stop();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves to the rejection of `promise`, failing the test if it fulfils. */
async function rejection(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof Error, 'expected an Error');
    return err as unknown as Record<string, unknown>;
  }
  assert.fail('expected the call to be rejected');
}

describe('startMoto', () => {
  test('serves HTTP on 127.0.0.1 and stop() is idempotent and leaves no process', async () => {
    const moto = await startMoto();
    try {
      assert.equal(moto.url, `http://127.0.0.1:${moto.port}`);
      assert.ok(moto.pid > 0);
      const res = await fetch(`${moto.url}/`);
      await res.arrayBuffer();
      assert.ok(res.status < 500, `GET / answered ${res.status}`);
      assert.ok(isAlive(moto.pid));
    } finally {
      await Promise.all([moto.stop(), moto.stop()]);
      await moto.stop();
    }
    assert.equal(isAlive(moto.pid), false);
    await assert.rejects(fetch(`${moto.url}/`, { signal: AbortSignal.timeout(2_000) }));
  });

  test('each call gets its own server', async () => {
    const [a, b] = await Promise.all([startMoto(), startMoto()]);
    try {
      assert.notEqual(a.port, b.port);
      assert.notEqual(a.pid, b.pid);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

describe('openActivityTasks + failDirectly + activityTaskFailedEvents', () => {
  test('opens 3 tasks; a direct failure with absent reason and non-ASCII details is stored exactly', async () => {
    await withMoto(async (moto) => {
      const tasks = await openActivityTasks(moto, 3);
      assert.equal(tasks.length, 3);
      assert.equal(new Set(tasks.map((t) => t.taskToken)).size, 3);
      assert.equal(new Set(tasks.map((t) => t.domain)).size, 1);
      tasks.forEach((t, i) => {
        assert.equal(t.workflowId, `wf-${i}`);
        assert.equal(t.activityId, `act-wf-${i}`);
        assert.ok(t.runId.length > 0);
        assert.ok(t.taskToken.length > 0);
      });
      const [first, second, third] = tasks;
      assert.ok(first && second && third);

      for (const t of tasks) assert.deepEqual(await activityTaskFailedEvents(moto, t), []);

      await failDirectly(moto, second.taskToken, undefined, NON_ASCII);
      const events = await activityTaskFailedEvents(moto, second);
      // History: 1 WorkflowExecutionStarted, 2-4 decision task, 5 ActivityTaskScheduled,
      // 6 ActivityTaskStarted, 7 ActivityTaskFailed.
      assert.deepStrictEqual(events, [{ scheduledEventId: 5, startedEventId: 6, details: NON_ASCII }]);
      assert.equal(Object.hasOwn(events[0] ?? {}, 'reason'), false);

      // The other executions are untouched.
      assert.deepEqual(await activityTaskFailedEvents(moto, first), []);
      assert.deepEqual(await activityTaskFailedEvents(moto, third), []);
    });
  });

  test('a second domain on the same server is independent', async () => {
    await withMoto(async (moto) => {
      const a = await openActivityTasks(moto, 2);
      const b = await openActivityTasks(moto, 2);
      assert.notEqual(a[0]?.domain, b[0]?.domain);
      assert.equal(new Set([...a, ...b].map((t) => t.taskToken)).size, 4);
    });
  });

  test('opens 100 tasks quickly, each with a distinct token matched to its execution', async (t) => {
    await withMoto(async (moto) => {
      const started = performance.now();
      const tasks = await openActivityTasks(moto, 100);
      const ms = Math.round(performance.now() - started);
      t.diagnostic(`opened 100 activity tasks in ${ms} ms`);
      assert.equal(tasks.length, 100);
      assert.equal(new Set(tasks.map((x) => x.taskToken)).size, 100);
      assert.equal(new Set(tasks.map((x) => x.runId)).size, 100);
      tasks.forEach((x, i) => assert.equal(x.activityId, `act-wf-${i}`));
      assert.ok(ms < 15_000, `took ${ms} ms`);

      // Every token is really open and belongs to the execution it was reported with.
      const last = tasks[99];
      assert.ok(last);
      await failDirectly(moto, last.taskToken, 'r', 'd');
      assert.deepStrictEqual(await activityTaskFailedEvents(moto, last), [
        { scheduledEventId: 5, startedEventId: 6, reason: 'r', details: 'd' },
      ]);
    });
  });
});

describe('moto quirks (differences from real SWF)', () => {
  test('(a) failing the same token twice: HTTP 500 HTML, surfaced by the SDK as a SyntaxError after 3 attempts', async () => {
    await withMoto(async (moto) => {
      const [task] = await openActivityTasks(moto, 1);
      assert.ok(task);
      await failDirectly(moto, task.taskToken, 'first');

      const err = await rejection(failDirectly(moto, task.taskToken, 'second'));
      assert.equal(err.name, 'SyntaxError');
      assert.ok(err instanceof SyntaxError);
      assert.match(String(err.message), /^Unexpected token '<', "<!doctype "\.\.\. is not valid JSON/);
      assert.equal(err.$fault, undefined);
      const metadata = err.$metadata as { httpStatusCode: number; attempts: number };
      assert.equal(metadata.httpStatusCode, 500);
      assert.equal(metadata.attempts, 3); // the SDK's default strategy retried the 500 twice
      const response = err.$response as { statusCode: number; headers: Record<string, string> };
      assert.equal(response.statusCode, 500);
      assert.match(response.headers['content-type'] ?? '', /^text\/html/);

      // The first failure is the only one recorded.
      assert.deepStrictEqual(await activityTaskFailedEvents(moto, task), [
        { scheduledEventId: 5, startedEventId: 6, reason: 'first' },
      ]);
    });
  });

  test('(b) a bogus or empty token: ValidationException, client fault, HTTP 400, not retried', async () => {
    await withMoto(async (moto) => {
      for (const token of ['bogus-token', '']) {
        const err = await rejection(failDirectly(moto, token, 'reason'));
        assert.equal(err.name, 'ValidationException');
        assert.equal(err.message, 'Invalid token');
        assert.equal(err.$fault, 'client');
        const metadata = err.$metadata as { httpStatusCode: number; attempts: number };
        assert.equal(metadata.httpStatusCode, 400);
        assert.equal(metadata.attempts, 1);
      }
    });
  });

  test('(c) details of exactly 32,768 characters (and beyond) are stored exactly; no limits enforced', async () => {
    await withMoto(async (moto) => {
      const [atLimit, overLimit] = await openActivityTasks(moto, 2);
      assert.ok(atLimit && overLimit);

      // Mixed content so truncation or re-encoding would show: 32,768 UTF-16 code units.
      const details = ('0123456789abcdef'.repeat(2047) + 'ü✓日本語éèà').padEnd(32_768, 'z');
      assert.equal(details.length, 32_768);
      await failDirectly(moto, atLimit.taskToken, 'at limit', details);
      const [event] = await activityTaskFailedEvents(moto, atLimit);
      assert.equal(event?.details, details);
      assert.equal(event?.reason, 'at limit');

      // Real SWF would reject these (reason > 256, details > 32,768); moto stores them.
      const longReason = 'r'.repeat(300);
      const longDetails = 'd'.repeat(40_000);
      await failDirectly(moto, overLimit.taskToken, longReason, longDetails);
      const [over] = await activityTaskFailedEvents(moto, overLimit);
      assert.equal(over?.reason, longReason);
      assert.equal(over?.details, longDetails);
    });
  });

  test('(d) reason "" is stored exactly like an absent reason (key missing); so is details ""', async () => {
    await withMoto(async (moto) => {
      const [absent, empty, blank] = await openActivityTasks(moto, 3);
      assert.ok(absent && empty && blank);

      await failDirectly(moto, absent.taskToken, undefined, 'x');
      await failDirectly(moto, empty.taskToken, '', 'x');
      await failDirectly(moto, blank.taskToken, ' ', '');

      const [a] = await activityTaskFailedEvents(moto, absent);
      const [e] = await activityTaskFailedEvents(moto, empty);
      const [b] = await activityTaskFailedEvents(moto, blank);
      assert.deepStrictEqual(a, { scheduledEventId: 5, startedEventId: 6, details: 'x' });
      assert.deepStrictEqual(e, a);
      assert.equal(Object.hasOwn(e ?? {}, 'reason'), false);
      // Whitespace is truthy, so it is kept; the empty details are dropped.
      assert.deepStrictEqual(b, { scheduledEventId: 5, startedEventId: 6, reason: ' ' });
    });
  });
});
