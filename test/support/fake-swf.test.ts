/**
 * Drives FakeSwf with the real AWS SDK client, so the fake is proven to speak the wire protocol
 * the sidecar's SWF adapter will see: the SDK must parse each answer into the right error.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  RespondActivityTaskFailedCommand,
  SWFClient,
  UnknownResourceFault,
  OperationNotPermittedFault,
  type RespondActivityTaskFailedCommandInput,
} from '@aws-sdk/client-swf';
import { FakeSwf, type FakeSwfOptions } from './fake-swf.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What the SDK error objects carry that these tests look at. */
interface SdkError extends Error {
  code?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

// Each test registers what it opens; afterEach closes it so a failing test never leaks a server.
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startFake(options?: FakeSwfOptions): Promise<FakeSwf> {
  const fake = await FakeSwf.start(options);
  cleanups.push(() => fake.close());
  return fake;
}

/** A real client with retries off, so every send is exactly one HTTP call. */
function clientFor(fake: FakeSwf): SWFClient {
  const client = new SWFClient({
    endpoint: fake.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake-secret' },
    maxAttempts: 1,
  });
  cleanups.push(() => client.destroy());
  return client;
}

function fail(client: SWFClient, input: RespondActivityTaskFailedCommandInput, abortSignal?: AbortSignal) {
  return client.send(new RespondActivityTaskFailedCommand(input), abortSignal ? { abortSignal } : {});
}

/** Resolves with the SDK's rejection; fails the test if the call succeeded. */
async function sdkError(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof Error, 'expected an Error');
    return err;
  }
  assert.fail('expected the call to be rejected');
}

/** Waits (bounded, polling every 5 ms) until `condition` holds: no fixed sleeps. */
async function until(condition: () => boolean, timeoutMs = 1000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('FakeSwf', () => {
  it('accepts a failure and records token, reason and details exactly, absent distinct from ""', async () => {
    const fake = await startFake();
    const client = clientFor(fake);

    const out = await fail(client, { taskToken: 't1', reason: 'boom', details: 'stack…' });
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.match(out.$metadata.requestId ?? '', UUID);
    await fail(client, { taskToken: 't2', reason: '', details: '' });
    await fail(client, { taskToken: 't3' });

    assert.deepEqual(
      fake.calls.map(({ taskToken, reason, details, answer, target }) => ({
        taskToken,
        reason,
        details,
        answer,
        target,
      })),
      [
        {
          taskToken: 't1',
          reason: 'boom',
          details: 'stack…',
          answer: 'accepted',
          target: 'SimpleWorkflowService.RespondActivityTaskFailed',
        },
        {
          taskToken: 't2',
          reason: '',
          details: '',
          answer: 'accepted',
          target: 'SimpleWorkflowService.RespondActivityTaskFailed',
        },
        {
          taskToken: 't3',
          reason: undefined,
          details: undefined,
          answer: 'accepted',
          target: 'SimpleWorkflowService.RespondActivityTaskFailed',
        },
      ],
    );
    assert.equal(fake.accepted().length, 3);
  });

  it('answers UnknownResourceFault for a token it already failed, like real SWF', async () => {
    const fake = await startFake();
    const client = clientFor(fake);

    await fail(client, { taskToken: 'once' });
    const err = await sdkError(fail(client, { taskToken: 'once' }));

    assert.ok(err instanceof UnknownResourceFault, `got ${err.name}`);
    assert.equal(err.name, 'UnknownResourceFault');
    assert.equal(err.message, 'Unknown activity task');
    assert.equal(err.$fault, 'client');
    assert.equal(err.$metadata?.httpStatusCode, 400);
    assert.match(err.$metadata?.requestId ?? '', UUID);
    assert.deepEqual([...fake.acceptedCountByToken()], [['once', 1]]);
    assert.deepEqual(
      fake.calls.map((c) => c.answer),
      ['accepted', 'UnknownResourceFault'],
    );

    // reset() forgets seen tokens and records.
    fake.reset();
    assert.equal(fake.calls.length, 0);
    await fail(client, { taskToken: 'once' });
    assert.equal(fake.accepted().length, 1);
  });

  it('answers UnknownResourceFault for configured unknown tokens (set or predicate)', async () => {
    const fake = await startFake({ unknownTokens: new Set(['timed-out']) });
    const client = clientFor(fake);

    assert.ok((await sdkError(fail(client, { taskToken: 'timed-out' }))) instanceof UnknownResourceFault);
    fake.configure({ unknownTokens: (token) => token.startsWith('gone-') });
    assert.ok((await sdkError(fail(client, { taskToken: 'gone-1' }))) instanceof UnknownResourceFault);
    await fail(client, { taskToken: 'timed-out' });
    assert.deepEqual(
      fake.calls.map((c) => c.answer),
      ['UnknownResourceFault', 'UnknownResourceFault', 'accepted'],
    );
  });

  it('answers OperationNotPermittedFault when forbidden', async () => {
    const fake = await startFake({ forbidden: true });
    const client = clientFor(fake);

    const err = await sdkError(fail(client, { taskToken: 't' }));
    assert.ok(err instanceof OperationNotPermittedFault, `got ${err.name}`);
    assert.equal(err.$metadata?.httpStatusCode, 400);
  });

  it('answers ValidationException for a missing or empty token and over-long reason or details', async () => {
    const fake = await startFake();
    const client = clientFor(fake);
    const cases: RespondActivityTaskFailedCommandInput[] = [
      { taskToken: undefined },
      { taskToken: '' },
      { taskToken: 'a', reason: 'r'.repeat(257) },
      { taskToken: 'b', details: 'd'.repeat(32_769) },
    ];
    for (const input of cases) {
      const err = await sdkError(fail(client, input));
      assert.equal(err.name, 'ValidationException');
      assert.equal(err.$metadata?.httpStatusCode, 400);
    }
    // At the limits exactly: accepted.
    await fail(client, { taskToken: 'c', reason: 'r'.repeat(256), details: 'd'.repeat(32_768) });
    assert.deepEqual(
      fake.calls.map((c) => [c.taskToken, c.answer]),
      [
        [undefined, 'ValidationException'],
        ['', 'ValidationException'],
        ['a', 'ValidationException'],
        ['b', 'ValidationException'],
        ['c', 'accepted'],
      ],
    );
  });

  it('throttles with ThrottlingException (HTTP 400) when the bucket is empty, and refills over time', async () => {
    let nowMs = 0;
    const fake = await startFake({ bucketSize: 2, refillPerSecond: 10, now: () => nowMs });
    const client = clientFor(fake);

    await fail(client, { taskToken: 'a' });
    await fail(client, { taskToken: 'b' });
    const err = await sdkError(fail(client, { taskToken: 'c' }));
    assert.equal(err.name, 'ThrottlingException');
    assert.equal(err.message, 'Rate exceeded');
    assert.equal(err.$fault, 'client');
    assert.equal(err.$metadata?.httpStatusCode, 400);

    nowMs += 99; // 0.99 of a token at 10/s: still empty
    assert.equal((await sdkError(fail(client, { taskToken: 'c' }))).name, 'ThrottlingException');
    nowMs += 1; // one whole token
    await fail(client, { taskToken: 'c' });
    assert.equal((await sdkError(fail(client, { taskToken: 'd' }))).name, 'ThrottlingException');

    nowMs += 10_000; // refill caps at bucketSize
    assert.equal(fake.bucketTokens(), 2);

    assert.deepEqual(
      fake.calls.map((c) => [c.taskToken, c.answer, c.atMs]),
      [
        ['a', 'accepted', 0],
        ['b', 'accepted', 0],
        ['c', 'ThrottlingException', 0],
        ['c', 'ThrottlingException', 99],
        ['c', 'accepted', 100],
        ['d', 'ThrottlingException', 100],
      ],
    );

    // Changing the quota starts a new, full bucket.
    fake.configure({ bucketSize: 1 });
    await fail(client, { taskToken: 'e' });
    assert.equal((await sdkError(fail(client, { taskToken: 'f' }))).name, 'ThrottlingException');
  });

  it('answers InternalFailure (500) and ServiceUnavailable (503) at rate 1', async () => {
    const fake = await startFake({ internalErrorRate: 1 });
    const client = clientFor(fake);

    const internal = await sdkError(fail(client, { taskToken: 't' }));
    assert.equal(internal.name, 'InternalFailure');
    assert.equal(internal.$fault, 'server');
    assert.equal(internal.$metadata?.httpStatusCode, 500);

    fake.configure({ internalErrorRate: 0, unavailableRate: 1 });
    const unavailable = await sdkError(fail(client, { taskToken: 't' }));
    assert.equal(unavailable.name, 'ServiceUnavailable');
    assert.equal(unavailable.$fault, 'server');
    assert.equal(unavailable.$metadata?.httpStatusCode, 503);

    // A transient error does not consume the token: it can still be failed once.
    fake.configure({ unavailableRate: 0 });
    await fail(client, { taskToken: 't' });
    assert.deepEqual(
      fake.calls.map((c) => c.answer),
      ['InternalFailure', 'ServiceUnavailable', 'accepted'],
    );
  });

  it('uses the injected random source for partial rates', async () => {
    const draws = [0.1, 0.9, 0.49, 0.5];
    const fake = await startFake({ internalErrorRate: 0.5, random: () => draws.shift() ?? 1 });
    const client = clientFor(fake);

    for (const token of ['a', 'b', 'c', 'd']) await fail(client, { taskToken: token }).catch(() => undefined);
    assert.deepEqual(
      fake.calls.map((c) => c.answer),
      ['InternalFailure', 'accepted', 'InternalFailure', 'accepted'],
    );
  });

  it('adds fixed latency and spikes', async () => {
    const fake = await startFake({
      latencyMs: 30,
      spikeRate: 0.5,
      spikeLatencyMs: 40,
      random: () => 0.2,
    });
    const client = clientFor(fake);

    const startedMs = performance.now();
    await fail(client, { taskToken: 'slow' });
    const elapsedMs = performance.now() - startedMs;
    assert.ok(elapsedMs >= 65, `answered after ${elapsedMs} ms, expected >= 70`);
    assert.equal(fake.calls[0]?.delayMs, 70);

    fake.configure({ random: () => 0.7 }); // no spike
    await fail(client, { taskToken: 'less-slow' });
    assert.equal(fake.calls[1]?.delayMs, 30);
  });

  it('resets the connection without an answer', async () => {
    const fake = await startFake({ resetRate: 1 });
    const client = clientFor(fake);

    const err = await sdkError(fail(client, { taskToken: 't' }));
    assert.equal(err.code, 'ECONNRESET');
    assert.deepEqual(
      fake.calls.map((c) => c.answer),
      ['reset'],
    );

    fake.configure({ resetRate: 0 });
    await fail(client, { taskToken: 't' });
    assert.deepEqual(
      fake.calls.map((c) => c.answer),
      ['reset', 'accepted'],
    );
  });

  it('refuses connections, then listens again on the same port', async () => {
    const fake = await startFake();
    const client = clientFor(fake);
    const port = fake.port;
    await fail(client, { taskToken: 'before' }); // leaves a keep-alive socket in the client's pool

    await fake.refuseConnections(true);
    const err = await sdkError(fail(client, { taskToken: 'during' }));
    assert.equal(err.code, 'ECONNREFUSED');

    await fake.refuseConnections(false);
    assert.equal(fake.port, port);
    assert.equal(fake.url, `http://127.0.0.1:${port}`);
    await fail(client, { taskToken: 'after' });
    assert.deepEqual(
      fake.accepted().map((c) => c.taskToken),
      ['before', 'after'],
    );
  });

  it('hangs until the client aborts', async () => {
    const fake = await startFake({ hang: true });
    const client = clientFor(fake);
    const controller = new AbortController();

    const pending = sdkError(fail(client, { taskToken: 't' }, controller.signal));
    await until(() => fake.calls.length === 1);
    controller.abort();
    const err = await pending;
    assert.equal(err.name, 'AbortError');
    assert.deepEqual(
      fake.calls.map((c) => c.answer),
      ['hang'],
    );
  });

  it('records whether each written answer reached a socket the client still had open', async () => {
    const fake = await startFake({ latencyMs: 100 });
    const client = clientFor(fake);

    await fail(client, { taskToken: 'read' });
    assert.equal(fake.calls[0]?.replied, true);

    const controller = new AbortController();
    const pending = sdkError(fail(client, { taskToken: 'given-up' }, controller.signal));
    await until(() => fake.calls.length === 2);
    assert.equal(fake.calls[1]?.replied, undefined, 'not answered yet');
    controller.abort();
    assert.equal((await pending).name, 'AbortError');
    await until(() => fake.calls[1]?.replied !== undefined);
    assert.equal(fake.calls[1]?.replied, false);
    assert.equal(fake.calls[1]?.answer, 'accepted');
  });

  it('close() ends hung requests and is idempotent', async () => {
    const fake = await startFake({ hang: true });
    const client = clientFor(fake);

    const pending = sdkError(fail(client, { taskToken: 't' }));
    await until(() => fake.calls.length === 1);
    await Promise.all([fake.close(), fake.close()]);
    await fake.close();
    const err = await pending;
    assert.equal(err.code, 'ECONNRESET');
  });

  it('maxAcceptedInAnyWindow slides over accepted calls only', async () => {
    let nowMs = 0;
    const fake = await startFake({ now: () => nowMs });
    const client = clientFor(fake);

    // Fixed one-second windows would see 3 then 4; the worst sliding second, [20, 1020), has 5.
    let n = 0;
    for (const atMs of [0, 10, 20, 1000, 1005, 1010, 1015]) {
      nowMs = atMs;
      await fail(client, { taskToken: `t${n++}` });
    }
    // Rejected calls inside the window do not count.
    nowMs = 1016;
    await sdkError(fail(client, { taskToken: 't0' }));

    assert.equal(fake.maxAcceptedInAnyWindow(1000), 5);
    assert.equal(fake.maxAcceptedInAnyWindow(10), 2); // [0, 10) or [1000, 1010): half-open
    assert.equal(fake.maxAcceptedInAnyWindow(1), 1);
    assert.equal(fake.maxAcceptedInAnyWindow(5000), 7);
  });

  it('throttles a random fraction of calls without taking bucket tokens', async () => {
    const draws = [0.1, 0.5, 0.29, 0.3];
    const fake = await startFake({
      throttleRate: 0.3,
      bucketSize: 2,
      refillPerSecond: 0,
      random: () => draws.shift() ?? 1,
    });
    const client = clientFor(fake);

    for (const token of ['a', 'b', 'c', 'd']) await fail(client, { taskToken: token }).catch(() => undefined);
    assert.deepEqual(
      fake.calls.map((c) => [c.taskToken, c.answer]),
      [
        ['a', 'ThrottlingException'],
        ['b', 'accepted'],
        ['c', 'ThrottlingException'],
        ['d', 'accepted'],
      ],
    );
    assert.equal(fake.bucketTokens(), 0, 'only the two accepted calls took a token');
  });

  it('maxCallsInAnyWindow counts every call, whatever its answer', async () => {
    let nowMs = 0;
    const fake = await startFake({ now: () => nowMs });
    const client = clientFor(fake);

    for (const atMs of [0, 10, 20]) {
      nowMs = atMs;
      await fail(client, { taskToken: 'same' }).catch(() => undefined); // accepted once, then UnknownResourceFault
    }
    assert.equal(fake.maxAcceptedInAnyWindow(1000), 1);
    assert.equal(fake.maxCallsInAnyWindow(1000), 3);
    assert.equal(fake.maxCallsInAnyWindow(10), 1);
  });

  it('answers an unknown target with UnknownOperationException and a request id', async () => {
    const fake = await startFake();

    const res = await fetch(fake.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'SimpleWorkflowService.PollForActivityTask',
      },
      body: '{}',
    });
    assert.equal(res.status, 400);
    assert.match(res.headers.get('x-amzn-requestid') ?? '', UUID);
    const body = (await res.json()) as { __type: string; message: string };
    assert.equal(body.__type, 'com.amazonaws.swf.base.model#UnknownOperationException');
    assert.deepEqual(
      fake.calls.map((c) => c.answer),
      ['UnknownOperationException'],
    );
  });

  it('rejects bad options, listing every problem', async () => {
    await assert.rejects(FakeSwf.start({ internalErrorRate: 2, latencyMs: -1 }), /internalErrorRate.*latencyMs/);
  });
});
