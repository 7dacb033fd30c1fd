/**
 * The CLI's own gRPC call (src/cli/sidecar-call.ts, node:http2 without grpc-js) against a raw
 * HTTP/2 server on loopback that answers each test's way, well-formed or not: the answers a
 * grpc-js server gives are in respond-activity-task-failed.test.ts, these are the others.
 */
import assert from 'node:assert/strict';
import {
  createServer,
  constants,
  type Http2Server,
  type ServerHttp2Stream,
  type IncomingHttpHeaders,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { encodeFailRequest } from '../../src/cli/fail-request-codec.js';
import { failActivityTask, type CallResult } from '../../src/cli/sidecar-call.js';
import { parseSidecarEndpoint } from '../../src/cli/sidecar-endpoint.js';
import { GRPC_CODE } from '../../src/cli/grpc-wire.js';
import { activityTasksClientConstructor, type WireFailResponse } from '../../src/grpc/contract.js';

type Handler = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, body: Buffer) => void;

const method = activityTasksClientConstructor().service['FailActivityTask'];

function frame(message: Buffer, compressed = 0): Buffer {
  const prefix = Buffer.alloc(5);
  prefix[0] = compressed;
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

function responseBytes(response: WireFailResponse): Buffer {
  assert.ok(method);
  return method.responseSerialize(response);
}

const GRPC_HEADERS = { ':status': 200, 'content-type': 'application/grpc' };

function answer(stream: ServerHttp2Stream, messages: Buffer[], trailers: Record<string, string>): void {
  stream.respond(GRPC_HEADERS, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers(trailers));
  for (const message of messages) stream.write(message);
  stream.end();
}

describe('failActivityTask against a raw HTTP/2 server', () => {
  let server: Http2Server;
  let handler: Handler = () => undefined;
  let port = 0;
  before(async () => {
    server = createServer();
    server.on('stream', (stream, headers) => {
      const chunks: Buffer[] = [];
      // Resetting a stream is what some tests do; the server side's own error says only that.
      stream.on('error', () => undefined);
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => handler(stream, headers, Buffer.concat(chunks)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const call = (timeoutMs = 5_000): Promise<CallResult> =>
    failActivityTask(parseSidecarEndpoint(`127.0.0.1:${port}`), { taskToken: 'tok', reason: 'r' }, timeoutMs);

  const assertError = (result: CallResult, code: number, message: RegExp): void => {
    assert.equal(result.kind, 'error', JSON.stringify(result));
    if (result.kind !== 'error') return;
    assert.equal(result.code, code, result.message);
    assert.match(result.message, message);
    assert.equal(result.reachedSidecar, true);
  };

  test('sends one length-prefixed request with gRPC headers and the deadline, decodes the answer', async () => {
    let seen: { headers: IncomingHttpHeaders; body: Buffer } | undefined;
    handler = (stream, headers, body) => {
      seen = { headers, body };
      answer(stream, [frame(responseBytes({ outcome: 'OUTCOME_QUEUED', attempts: 0 }))], { 'grpc-status': '0' });
    };
    assert.deepEqual(await call(2_500), { kind: 'ok', response: { outcome: 'OUTCOME_QUEUED', attempts: 0 } });
    assert.ok(seen);
    assert.equal(seen.headers[':method'], 'POST');
    assert.equal(seen.headers[':path'], '/swfsidecar.v1.ActivityTasks/FailActivityTask');
    assert.equal(seen.headers['content-type'], 'application/grpc');
    assert.equal(seen.headers['te'], 'trailers');
    assert.equal(seen.headers['grpc-timeout'], '2500m');
    assert.deepEqual(seen.body, frame(encodeFailRequest({ taskToken: 'tok', reason: 'r' })));

    await call(0);
    assert.equal(seen.headers['grpc-timeout'], undefined, 'no deadline, no grpc-timeout');

    // 34.7 days: past what setTimeout holds (Node would fire it at once); the header carries it.
    assert.equal((await call(3e9)).kind, 'ok');
    assert.equal(seen.headers['grpc-timeout'], '3000000S');
  });

  test('a trailers-only error: code, percent-decoded message and retry-after-ms', async () => {
    handler = (stream) =>
      stream.respond(
        { ...GRPC_HEADERS, 'grpc-status': '8', 'grpc-message': 'queue%20full%0A100%25', 'retry-after-ms': '250' },
        { endStream: true },
      );
    const result = await call();
    assertError(result, status.RESOURCE_EXHAUSTED, /^queue full\n100%$/);
    assert.equal(result.kind === 'error' && result.codeName, 'RESOURCE_EXHAUSTED');
    assert.equal(result.kind === 'error' && result.retryAfterMs, '250');
  });

  test('not a gRPC server: the HTTP status maps to a gRPC code', async () => {
    for (const [http, code] of [
      [404, GRPC_CODE.UNIMPLEMENTED],
      [503, GRPC_CODE.UNAVAILABLE],
      [500, GRPC_CODE.UNKNOWN],
    ] as const) {
      handler = (stream) => stream.respond({ ':status': http }, { endStream: true });
      assertError(await call(), code, new RegExp(`HTTP status ${http}`));
    }
  });

  test('OK without exactly one plain message is INTERNAL', async () => {
    const one = frame(responseBytes({ outcome: 'OUTCOME_DELIVERED', attempts: 1 }));
    const cases: [Buffer[], RegExp][] = [
      [[], /no message/],
      [[one, one], /more than one message/],
      [[one.subarray(0, one.length - 1)], /truncated/],
      [[frame(Buffer.from([1, 2]), 1)], /compressed/],
      [[frame(Buffer.from([0x0f]))], /malformed FailActivityTaskResponse/],
    ];
    for (const [messages, pattern] of cases) {
      handler = (stream) => answer(stream, messages, { 'grpc-status': '0' });
      assertError(await call(), GRPC_CODE.INTERNAL, pattern);
    }
  });

  test('a grpc-status that is not a number is UNKNOWN', async () => {
    handler = (stream) => answer(stream, [], { 'grpc-status': 'abc' });
    assertError(await call(), GRPC_CODE.UNKNOWN, /grpc-status "abc"/);
  });

  test('a reset stream or a dropped connection, without a status', async () => {
    handler = (stream) => stream.close(constants.NGHTTP2_REFUSED_STREAM);
    assertError(await call(), GRPC_CODE.UNAVAILABLE, /REFUSED_STREAM/);
    handler = (stream) => stream.close(constants.NGHTTP2_CANCEL);
    assertError(await call(), GRPC_CODE.CANCELLED, /CANCEL/);
    handler = (stream) => {
      stream.respond(GRPC_HEADERS);
      stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    };
    assertError(await call(), GRPC_CODE.INTERNAL, /without a gRPC status/);
    handler = (stream) => stream.session?.destroy();
    assertError(await call(), GRPC_CODE.UNAVAILABLE, /closed before an answer/);
  });
});
