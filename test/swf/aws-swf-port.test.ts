/**
 * AwsSwfPort against real HTTP on 127.0.0.1: FakeSwf for SWF's answers and faults, and a small
 * recording server for what goes on the wire (headers, body, sockets). The port takes its
 * endpoint from AWS_ENDPOINT_URL_SWF and its credentials from the env, as in production, so each
 * test sets the env before the port's first call (this file runs in its own process).
 * Signatures are checked against the AWS SDK's own SigV4 signer (`SWFClient.config.signer()`).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { SWFClient } from '@aws-sdk/client-swf';
import { AwsSwfPort, type AwsSwfPortOptions, type WarmUpReport } from '../../src/swf/aws-swf-port.js';
import type { SendResult } from '../../src/swf/swf-port.js';
import { FakeSwf, type FakeSwfOptions } from '../support/fake-swf.js';

const ACCESS_KEY = 'AKIDSIDECARTEST';
const SECRET_KEY = 'sidecar/test+secret';
const REGION = 'eu-west-1';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The environment every test starts from: static keys, a region, nothing from this machine. */
const BASE_ENV: Record<string, string | undefined> = {
  AWS_REGION: REGION,
  AWS_ACCESS_KEY_ID: ACCESS_KEY,
  AWS_SECRET_ACCESS_KEY: SECRET_KEY,
  AWS_SESSION_TOKEN: undefined,
  AWS_PROFILE: undefined,
  AWS_DEFAULT_REGION: undefined,
  AWS_ENDPOINT_URL: undefined,
  AWS_ENDPOINT_URL_SWF: undefined,
  AWS_USE_FIPS_ENDPOINT: undefined,
  AWS_USE_DUALSTACK_ENDPOINT: undefined,
  AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: undefined,
  AWS_DISABLE_CLOCK_SKEW_CORRECTION: undefined,
  AWS_CONFIG_FILE: '/nonexistent/aws-config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
  AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
};

function setEnv(vars: Record<string, string | undefined>): void {
  for (const [key, value] of Object.entries(vars)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
}

// Each test registers what it opens; afterEach closes it so a failing test never leaks a server.
const cleanups: Array<() => Promise<void> | void> = [];
beforeEach(() => setEnv(BASE_ENV));
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const DEFAULT_OPTIONS: AwsSwfPortOptions = { requestTimeoutMs: 2_000, maxSockets: 8 };

/** A port whose endpoint is `url` (through AWS_ENDPOINT_URL_SWF, as the sidecar is configured). */
function portFor(url: string, options: Partial<AwsSwfPortOptions> = {}): AwsSwfPort {
  process.env['AWS_ENDPOINT_URL_SWF'] = url;
  const port = new AwsSwfPort({ ...DEFAULT_OPTIONS, ...options });
  cleanups.push(() => port.destroy());
  return port;
}

async function startFake(options?: FakeSwfOptions): Promise<FakeSwf> {
  const fake = await FakeSwf.start(options);
  cleanups.push(() => fake.close());
  return fake;
}

const live = (): AbortSignal => new AbortController().signal;

interface Recorded {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** Index of the TCP connection it came on (0, 1, ...). */
  readonly connection: number;
  /** Resolves when the server side of this request's socket closes. */
  readonly socketClosed: Promise<void>;
}

interface Recorder {
  readonly url: string;
  readonly requests: Recorded[];
  connections(): number;
}

/**
 * An HTTP server that records every request and answers with `answer` (default: 200 with a
 * request id, like SWF). `answer` returning without ending the response leaves it hanging.
 */
async function startRecorder(answer?: (req: Recorded, res: ServerResponse) => void): Promise<Recorder> {
  const requests: Recorded[] = [];
  let connections = 0;
  const server = createServer();
  const sockets = new WeakMap<Socket, { index: number; closed: Promise<void> }>();
  server.on('connection', (socket: Socket) => {
    sockets.set(socket, {
      index: connections++,
      closed: new Promise((resolve) => socket.once('close', () => resolve())),
    });
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const socket = sockets.get(req.socket)!;
      const recorded: Recorded = {
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        connection: socket.index,
        socketClosed: socket.closed,
      };
      requests.push(recorded);
      if (answer !== undefined) answer(recorded, res);
      else res.writeHead(200, { 'x-amzn-RequestId': 'rid-recorded' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, connections: () => connections };
}

/** Resolves once `condition` holds, polling the event loop (no fixed sleeps). */
async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function only<T>(items: readonly T[]): T {
  assert.equal(items.length, 1, `expected exactly one, got ${items.length}`);
  return items[0]!;
}

/**
 * Recomputes the Authorization header of a received request with the AWS SDK's own signer, from
 * what arrived on the wire: the headers the request says it signed, its path, body and
 * x-amz-date. Equal strings mean the signature is what AWS will compute.
 */
async function expectedAuthorization(
  request: Recorded,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
): Promise<string> {
  const authorization = String(request.headers.authorization);
  const signedHeaders = /SignedHeaders=([^,]+),/.exec(authorization)?.[1]?.split(';') ?? [];
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) headers[name] = String(request.headers[name]);
  const amzDate = String(request.headers['x-amz-date']);
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  assert.ok(m, `x-amz-date ${amzDate}`);
  const signingDate = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  const [hostname, port] = String(request.headers.host).split(':');
  const client = new SWFClient({ region: REGION, credentials });
  const signer = await client.config.signer();
  const signed = await signer.sign(
    {
      method: request.method ?? 'POST',
      protocol: 'http:',
      hostname: hostname!,
      port: port === undefined ? undefined : Number(port),
      path: request.url ?? '/',
      query: {},
      headers,
      body: request.body,
    },
    // The SDK's signer would add and sign x-amz-content-sha256 too (SWF does not need it).
    { signingDate, unsignableHeaders: new Set(['x-amz-content-sha256']) },
  );
  client.destroy();
  return String(signed.headers['authorization']);
}

function messageOf(result: SendResult): string {
  assert.notEqual(result.kind, 'delivered');
  return result.kind === 'delivered' ? '' : result.message;
}

function assertResult(result: SendResult, expected: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(expected)) {
    assert.equal((result as Record<string, unknown>)[key], value, `${key} of ${JSON.stringify(result)}`);
  }
}

describe('AwsSwfPort: answers', () => {
  it('delivers, with the request id, and sends fields exactly: absent left out, "" kept', async () => {
    const fake = await startFake();
    const port = portFor(fake.url);
    const full = await port.send({ taskToken: 'tok-1', reason: 'boom', details: 'stack…🙂' }, live());
    assert.equal(full.kind, 'delivered');
    assert.match(full.requestId ?? '', UUID);
    assert.equal((await port.send({ taskToken: 'tok-2' }, live())).kind, 'delivered');
    assert.equal((await port.send({ taskToken: 'tok-3', reason: '', details: '' }, live())).kind, 'delivered');
    assert.deepEqual(
      fake.calls.map(({ target, taskToken, reason, details, answer }) => ({
        target,
        taskToken,
        reason,
        details,
        answer,
      })),
      [
        {
          target: 'SimpleWorkflowService.RespondActivityTaskFailed',
          taskToken: 'tok-1',
          reason: 'boom',
          details: 'stack…🙂',
          answer: 'accepted',
        },
        {
          target: 'SimpleWorkflowService.RespondActivityTaskFailed',
          taskToken: 'tok-2',
          reason: undefined,
          details: undefined,
          answer: 'accepted',
        },
        {
          target: 'SimpleWorkflowService.RespondActivityTaskFailed',
          taskToken: 'tok-3',
          reason: '',
          details: '',
          answer: 'accepted',
        },
      ],
    );
  });

  const errorCases: [string, FakeSwfOptions, string, Record<string, unknown>][] = [
    [
      'UnknownResourceFault: rejected, not-found',
      { unknownTokens: new Set(['tok']) },
      'UnknownResourceFault (HTTP 400): Unknown activity task',
      { kind: 'rejected', code: 'not-found', errorName: 'UnknownResourceFault' },
    ],
    [
      'OperationNotPermittedFault: rejected, permission-denied',
      { forbidden: true },
      'OperationNotPermittedFault (HTTP 400): User is not authorized to perform: swf:RespondActivityTaskFailed',
      { kind: 'rejected', code: 'permission-denied', errorName: 'OperationNotPermittedFault' },
    ],
    [
      'ThrottlingException (a 400): retryable, throttled',
      { throttleRate: 1 },
      'ThrottlingException (HTTP 400): Rate exceeded',
      { kind: 'retryable', reason: 'throttled', outcomeUnknown: false },
    ],
    [
      'InternalFailure 500: retryable, transient, outcome unknown',
      { internalErrorRate: 1 },
      'InternalFailure (HTTP 500): An internal error occurred.',
      { kind: 'retryable', reason: 'transient', outcomeUnknown: true },
    ],
    [
      'ServiceUnavailable 503: retryable, transient, outcome unknown',
      { unavailableRate: 1 },
      'ServiceUnavailable (HTTP 503): Service is unavailable.',
      { kind: 'retryable', reason: 'transient', outcomeUnknown: true },
    ],
  ];
  for (const [name, options, message, expected] of errorCases) {
    it(name, async () => {
      const fake = await startFake(options);
      const result = await portFor(fake.url).send({ taskToken: 'tok' }, live());
      assertResult(result, { ...expected, message });
      assert.match(result.requestId ?? '', UUID);
    });
  }

  it('ValidationException: rejected, invalid-argument', async () => {
    const fake = await startFake();
    const result = await portFor(fake.url).send({ taskToken: '' }, live());
    assertResult(result, { kind: 'rejected', code: 'invalid-argument', errorName: 'ValidationException' });
  });

  it("an answer that is not JSON (moto's HTML 500) is named from its status: transient", async () => {
    const recorder = await startRecorder((_req, res) => {
      res
        .writeHead(500, { 'content-type': 'text/html' })
        .end('<!doctype html><title>500 Internal Server Error</title>');
    });
    const result = await portFor(recorder.url).send({ taskToken: 'tok' }, live());
    assertResult(result, { kind: 'retryable', reason: 'transient', outcomeUnknown: true });
    assert.match(messageOf(result), /^InternalServerError \(HTTP 500\): <!doctype html>/);
  });

  it('names an error as the SDK does: `code` in the body, else the x-amzn-errortype header', async () => {
    const answers = [
      { body: '{"code":"ns#UnknownResourceFault:http://x","Message":"gone"}', headers: {} },
      { body: '', headers: { 'x-amzn-errortype': 'ValidationException:http://internal' } },
    ];
    const recorder = await startRecorder((_req, res) => {
      const answer = answers.shift()!;
      res.writeHead(400, answer.headers).end(answer.body);
    });
    const port = portFor(recorder.url);
    assertResult(await port.send({ taskToken: 'a' }, live()), {
      kind: 'rejected',
      code: 'not-found',
      errorName: 'UnknownResourceFault',
      message: 'UnknownResourceFault (HTTP 400): gone',
    });
    assertResult(await port.send({ taskToken: 'b' }, live()), {
      kind: 'rejected',
      code: 'invalid-argument',
      errorName: 'ValidationException',
    });
  });
});

describe('AwsSwfPort: network faults, timeout, abort', () => {
  it('a connection reset: transient, outcome unknown', async () => {
    const fake = await startFake({ resetRate: 1 });
    const result = await portFor(fake.url).send({ taskToken: 'tok' }, live());
    assertResult(result, { kind: 'retryable', reason: 'transient', outcomeUnknown: true });
    assert.equal(fake.calls.length, 1);
  });

  it('connection refused: transient, never sent (outcome known)', async () => {
    const fake = await startFake();
    const port = portFor(fake.url);
    assert.equal((await port.send({ taskToken: 'before' }, live())).kind, 'delivered');
    await fake.refuseConnections(true);
    const result = await port.send({ taskToken: 'tok' }, live());
    assertResult(result, { kind: 'retryable', reason: 'transient', outcomeUnknown: false });
    assert.match(messageOf(result), /ECONNREFUSED/);
    await fake.refuseConnections(false);
    assert.equal((await port.send({ taskToken: 'after' }, live())).kind, 'delivered');
  });

  it('no answer within requestTimeoutMs: transient, outcome unknown, and the request is really cancelled', async () => {
    const recorder = await startRecorder(() => undefined); // never answers
    const port = portFor(recorder.url, { requestTimeoutMs: 150 });
    const startedMs = Date.now();
    const result = await port.send({ taskToken: 'tok' }, live());
    const tookMs = Date.now() - startedMs;
    assert.deepEqual(result, {
      kind: 'retryable',
      reason: 'transient',
      outcomeUnknown: true,
      message: 'no answer from SWF within 150 ms (request cancelled)',
    });
    assert.ok(tookMs >= 140 && tookMs < 1_500, `took ${tookMs} ms`);
    // The server sees the connection go away: nothing is left hanging.
    await only(recorder.requests).socketClosed;
  });

  it("the caller's signal aborts the call and closes its connection", async () => {
    const recorder = await startRecorder(() => undefined); // never answers
    const port = portFor(recorder.url);
    const controller = new AbortController();
    const pending = port.send({ taskToken: 'tok' }, controller.signal);
    await until(() => recorder.requests.length === 1);
    controller.abort();
    const result = await pending;
    assertResult(result, { kind: 'retryable', reason: 'transient' });
    assert.match(messageOf(result), /^AbortError/);
    await only(recorder.requests).socketClosed;
  });

  it('an already aborted signal sends nothing', async () => {
    const recorder = await startRecorder();
    const port = portFor(recorder.url);
    const controller = new AbortController();
    controller.abort();
    const result = await port.send({ taskToken: 'tok' }, controller.signal);
    assertResult(result, { kind: 'retryable', reason: 'transient' });
    assert.equal(recorder.requests.length, 0);
  });
});

describe('AwsSwfPort: the wire', () => {
  it('sends one signed JSON 1.0 POST whose signature is the one the AWS SDK computes', async () => {
    const recorder = await startRecorder();
    const port = portFor(recorder.url);
    const report = { taskToken: 'tok-☃', reason: 'r', details: '' };
    const result = await port.send(report, live());
    assert.deepEqual(result, { kind: 'delivered', requestId: 'rid-recorded' });
    const request = only(recorder.requests);
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/');
    assert.equal(request.body, '{"taskToken":"tok-☃","reason":"r","details":""}');
    assert.equal(request.headers['content-length'], String(Buffer.byteLength(request.body)));
    assert.equal(request.headers['content-type'], 'application/x-amz-json-1.0');
    assert.equal(request.headers['x-amz-target'], 'SimpleWorkflowService.RespondActivityTaskFailed');
    assert.match(String(request.headers['user-agent']), /^swf-sidecar /);
    assert.equal(request.headers['x-amz-security-token'], undefined);
    const amzDate = String(request.headers['x-amz-date']);
    assert.match(amzDate, /^\d{8}T\d{6}Z$/);
    assert.ok(
      Math.abs(
        Date.parse(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z')) -
          Date.now(),
      ) < 5_000,
    );
    const authorization = String(request.headers.authorization);
    assert.match(
      authorization,
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/${amzDate.slice(0, 8)}/${REGION}/swf/aws4_request, ` +
          'SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=[0-9a-f]{64}$',
      ),
    );
    assert.equal(
      authorization,
      await expectedAuthorization(request, { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }),
    );
  });

  it('signs the session token (AWS_SESSION_TOKEN) and an endpoint with a path', async () => {
    process.env['AWS_SESSION_TOKEN'] = 'session/token+with=chars';
    const recorder = await startRecorder();
    const port = portFor(`${recorder.url}/some%20prefix/v1`);
    assert.equal((await port.send({ taskToken: 'tok' }, live())).kind, 'delivered');
    const request = only(recorder.requests);
    assert.equal(request.url, '/some%20prefix/v1/'); // the SDK adds the trailing slash too
    assert.equal(request.headers['x-amz-security-token'], 'session/token+with=chars');
    assert.match(
      String(request.headers.authorization),
      /SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,/,
    );
    assert.equal(
      request.headers.authorization,
      await expectedAuthorization(request, {
        accessKeyId: ACCESS_KEY,
        secretAccessKey: SECRET_KEY,
        sessionToken: 'session/token+with=chars',
      }),
    );
  });

  it('corrects the signing time by the server clock, as the SDK does', async () => {
    const aheadMs = 3_600_000;
    const recorder = await startRecorder((_req, res) => {
      res.writeHead(200, { date: new Date(Date.now() + aheadMs).toUTCString() }).end();
    });
    const port = portFor(recorder.url);
    await port.send({ taskToken: 'first' }, live());
    await port.send({ taskToken: 'second' }, live());
    const [first, second] = recorder.requests.map((r) => {
      const d = String(r.headers['x-amz-date']);
      return Date.parse(`${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`);
    });
    assert.ok(Math.abs(first! - Date.now()) < 5_000, 'first call: local clock');
    assert.ok(Math.abs(second! - (Date.now() + aheadMs)) < 5_000, 'second call: server clock');
  });

  it('reuses keep-alive connections: many calls over at most maxSockets sockets', async () => {
    const recorder = await startRecorder();
    const port = portFor(recorder.url, { maxSockets: 4 });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => port.send({ taskToken: `c${i}` }, live())));
    assert.ok(results.every((r) => r.kind === 'delivered'));
    for (let i = 0; i < 20; i++) assert.equal((await port.send({ taskToken: `s${i}` }, live())).kind, 'delivered');
    assert.equal(recorder.requests.length, 60);
    assert.ok(recorder.connections() <= 4, `${recorder.connections()} connections`);
  });
});

describe('AwsSwfPort: what the HTTP client must not do', () => {
  it('refuses a header value with a line break, as node:http did: never sent, no bytes written', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ AWS_SESSION_TOKEN: 'token\r\nx-injected: yes' }, 'x-amz-security-token'],
      [{ AWS_SESSION_TOKEN: 'token\nx-injected: yes' }, 'x-amz-security-token'],
      [{ AWS_ACCESS_KEY_ID: 'AKID\rx-injected: yes' }, 'authorization'],
    ];
    const recorder = await startRecorder();
    for (const [env, header] of cases) {
      setEnv(BASE_ENV);
      setEnv(env);
      const result = await portFor(recorder.url).send({ taskToken: 'tok' }, live());
      assertResult(result, { kind: 'retryable', reason: 'transient', outcomeUnknown: false });
      assert.equal(messageOf(result), `TypeError: Invalid character in header content ["${header}"]`);
    }
    assert.equal(recorder.connections(), 0);
  });

  /** A TCP server that answers every request with `answer`, then closes. */
  async function rawServer(answer: string): Promise<string> {
    const server = createNetServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => socket.end(answer));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('a 2xx answer cut off mid-body is delivered (SWF applied the call)', async () => {
    const url = await rawServer('HTTP/1.1 200 OK\r\nx-amzn-RequestId: rid-cut\r\ncontent-length: 100\r\n\r\n{');
    assert.deepEqual(await portFor(url).send({ taskToken: 'tok' }, live()), {
      kind: 'delivered',
      requestId: 'rid-cut',
    });
  });

  it('a malformed answer: transient, outcome unknown', async () => {
    const url = await rawServer('HTTP/1.1 2OO OK\r\n\r\n');
    const result = await portFor(url).send({ taskToken: 'tok' }, live());
    assertResult(result, { kind: 'retryable', reason: 'transient', outcomeUnknown: true });
    assert.match(messageOf(result), /^Http1ProtocolError: invalid status line/);
  });
});

describe('AwsSwfPort: configuration from the SDK', () => {
  it('warmUp() resolves the endpoint the SDK would use, from the standard variables', async () => {
    const cases: [Record<string, string>, string][] = [
      [{}, `https://swf.${REGION}.amazonaws.com/`],
      [{ AWS_USE_FIPS_ENDPOINT: 'true' }, `https://swf-fips.${REGION}.amazonaws.com/`],
      [{ AWS_USE_DUALSTACK_ENDPOINT: 'true' }, `https://swf.${REGION}.api.aws/`],
      [{ AWS_ENDPOINT_URL: 'http://127.0.0.1:1001' }, 'http://127.0.0.1:1001/'],
      [
        { AWS_ENDPOINT_URL: 'http://127.0.0.1:1001', AWS_ENDPOINT_URL_SWF: 'http://127.0.0.1:1002' },
        'http://127.0.0.1:1002/',
      ],
      [
        { AWS_ENDPOINT_URL_SWF: 'http://127.0.0.1:1002', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' },
        `https://swf.${REGION}.amazonaws.com/`,
      ],
    ];
    for (const [env, endpoint] of cases) {
      setEnv(BASE_ENV);
      setEnv(env);
      const port = new AwsSwfPort(DEFAULT_OPTIONS);
      cleanups.push(() => port.destroy());
      assert.deepEqual(await port.warmUp(), { endpoint, signingRegion: REGION, errors: [] }, JSON.stringify(env));
    }
  });

  it('missing credentials: warmUp() reports them, a call is transient and never sent', async () => {
    setEnv({ AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
    const recorder = await startRecorder();
    const port = portFor(recorder.url);
    const report = await port.warmUp();
    assert.equal(report.endpoint, `${recorder.url}/`);
    assert.equal(report.errors.length, 1);
    assert.equal(report.errors[0]?.name, 'CredentialsProviderError');
    const result = await port.send({ taskToken: 'tok' }, live());
    assertResult(result, { kind: 'retryable', reason: 'transient', outcomeUnknown: false });
    assert.equal(recorder.requests.length, 0);
    // Credentials that show up later are used: the SDK's provider does not cache a failure.
    setEnv({ AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET_KEY });
    assert.equal((await port.send({ taskToken: 'tok' }, live())).kind, 'delivered');
  });

  it('a missing region: reported by warmUp(), calls transient and never sent', async () => {
    setEnv({ AWS_REGION: undefined });
    const recorder = await startRecorder();
    const port = portFor(recorder.url);
    const report = await port.warmUp();
    assert.equal(report.endpoint, undefined);
    assert.match(report.errors[0]?.message ?? '', /region/i);
    assertResult(await port.send({ taskToken: 'tok' }, live()), { kind: 'retryable', outcomeUnknown: false });
    assert.equal(recorder.requests.length, 0);
  });

  it('loads the SDK with the first call, and reports that resolution once per outcome', async () => {
    setEnv({ AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
    const recorder = await startRecorder();
    const reports: WarmUpReport[] = [];
    const port = portFor(recorder.url, { onResolution: (report) => reports.push(report) });
    assert.equal((port as unknown as { client: unknown }).client, undefined, 'no SDK client before the first call');
    // Two calls at once, then a third: one report of the missing credentials, not three.
    const failed = await Promise.all([port.send({ taskToken: 'a' }, live()), port.send({ taskToken: 'b' }, live())]);
    assert.deepEqual(
      failed.map((result) => result.kind),
      ['retryable', 'retryable'],
    );
    await port.send({ taskToken: 'c' }, live());
    assert.equal(reports.length, 1);
    assert.equal(reports[0]?.errors[0]?.name, 'CredentialsProviderError');
    assert.equal(recorder.requests.length, 0);
    // Once they show up: one more report, with no errors, and the calls go out.
    setEnv({ AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET_KEY });
    assert.equal((await port.send({ taskToken: 'd' }, live())).kind, 'delivered');
    assert.equal((await port.send({ taskToken: 'e' }, live())).kind, 'delivered');
    assert.deepEqual(reports.at(-1), { endpoint: `${recorder.url}/`, signingRegion: REGION, errors: [] });
    assert.equal(reports.length, 2);
  });
});
