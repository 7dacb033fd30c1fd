/**
 * Http1ConnectionPool against real servers on 127.0.0.1 (port 0): node:http and https servers
 * for what a correct server does, raw `net` servers for what a broken one does. Timeouts are
 * short real ones against servers that never answer; nothing sleeps to wait for something.
 */
import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { getEventListeners } from 'node:events';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, Socket, type AddressInfo, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  Http1ConnectionPool,
  type Http1ConnectionPoolOptions,
  type Http1Exchange,
} from '../../src/swf/http1-connection-pool.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const live = (): AbortSignal => new AbortController().signal;

function poolFor(port: number, options: Partial<Http1ConnectionPoolOptions> = {}): Http1ConnectionPool {
  const pool = new Http1ConnectionPool({ hostname: '127.0.0.1', port, secure: false, maxSockets: 4, ...options });
  cleanups.push(() => pool.destroy());
  return pool;
}

function send(
  pool: Http1ConnectionPool,
  port: number,
  body = '{}',
  { timeoutMs = 2_000, signal = live() }: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<Http1Exchange> {
  const bytes = Buffer.from(body);
  const head =
    `POST /path HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\n` +
    `content-length: ${bytes.length}\r\n\r\n`;
  return pool.request(head, bytes, timeoutMs, signal);
}

function answerOf(exchange: Http1Exchange): { status: number; headers: Record<string, string>; body: string } {
  assert.equal(exchange.kind, 'answer', JSON.stringify(exchange));
  if (exchange.kind !== 'answer') throw new Error('unreachable');
  return { status: exchange.status, headers: { ...exchange.headers }, body: exchange.body.toString() };
}

function errorOf(exchange: Http1Exchange): Error & { code?: string } {
  assert.equal(exchange.kind, 'error', JSON.stringify(exchange));
  if (exchange.kind !== 'error') throw new Error('unreachable');
  return exchange.error;
}

/** Resolves once `condition` holds, checking after each turn of the event loop (no fixed sleeps). */
async function turnsUntil(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not in time: ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

interface ServerSide {
  readonly port: number;
  /** Server-side sockets, in the order they connected. */
  readonly sockets: Socket[];
  /** Resolves when the server side of the connection at `index` has closed. */
  closed(index: number): Promise<void>;
}

/** Tracks a server's connections and registers its cleanup. */
async function listen(server: NetServer): Promise<ServerSide> {
  const sockets: Socket[] = [];
  const closed: Promise<void>[] = [];
  // For https too, 'connection' gives the TCP socket.
  server.on('connection', (socket: Socket) => {
    sockets.push(socket);
    closed.push(new Promise((resolve) => socket.once('close', () => resolve())));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { port: (server.address() as AddressInfo).port, sockets, closed: (index) => closed[index]! };
}

interface Received {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly body: string;
}

/** A node:http server handing every complete request to `answer` (which may leave it hanging). */
async function startHttp(answer: (received: Received) => void): Promise<ServerSide & { requests: Received[] }> {
  const requests: Received[] = [];
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const received = { req, res, body: Buffer.concat(chunks).toString() };
      requests.push(received);
      answer(received);
    });
  });
  return { ...(await listen(server)), requests };
}

/**
 * A raw TCP server: reads each request (head and Content-Length body) and hands it to `answer`
 * with the socket, to write whatever bytes the test wants.
 */
async function startRaw(answer: (socket: Socket, request: string, index: number) => void): Promise<ServerSide> {
  let count = 0;
  const server = createNetServer((socket) => {
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (;;) {
        const headEnd = buffered.indexOf('\r\n\r\n');
        if (headEnd === -1) return;
        const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, headEnd))?.[1] ?? 0);
        const end = headEnd + 4 + length;
        if (buffered.length < end) return;
        const request = buffered.slice(0, end);
        buffered = buffered.slice(end);
        answer(socket, request, count++);
      }
    });
    socket.on('error', () => undefined);
  });
  return listen(server);
}

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}';

describe('Http1ConnectionPool: a correct server (node:http)', () => {
  it('writes the request as given and reads the answer: status, lowercased and joined headers, body', async () => {
    const server = await startHttp(({ res }) => {
      res.setHeader('X-Amzn-RequestId', 'rid-1');
      res.setHeader('X-Multi', ['a', 'b']);
      res.writeHead(201).end('{"ok":true}');
    });
    const pool = poolFor(server.port);
    const answer = answerOf(await send(pool, server.port, '{"taskToken":"☃"}'));
    assert.equal(answer.status, 201);
    assert.equal(answer.body, '{"ok":true}');
    assert.equal(answer.headers['x-amzn-requestid'], 'rid-1');
    assert.equal(answer.headers['x-multi'], 'a, b');
    const [{ req, body }] = server.requests as [Received];
    assert.deepEqual(
      [req.method, req.url, req.headers['content-type'], body],
      ['POST', '/path', 'application/json', '{"taskToken":"☃"}'],
    );
  });

  it('reads a chunked answer', async () => {
    const server = await startHttp(({ res }) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.write('{"__type":');
      setImmediate(() => res.end('"ValidationException"}'));
    });
    const answer = answerOf(await send(poolFor(server.port), server.port));
    assert.equal(answer.headers['transfer-encoding'], 'chunked');
    assert.deepEqual([answer.status, answer.body], [400, '{"__type":"ValidationException"}']);
  });

  it('keeps the socket alive: one connection for requests in turn, idle between them', async () => {
    const server = await startHttp(({ res }) => res.end('{}'));
    const pool = poolFor(server.port);
    for (let i = 0; i < 5; i++) {
      assert.equal(answerOf(await send(pool, server.port)).status, 200);
      assert.deepEqual(pool.stats(), { open: 1, idle: 1, waiting: 0 });
    }
    assert.equal(server.sockets.length, 1);
    assert.ok(server.requests.every((r) => r.req.socket === server.sockets[0]));
  });

  it('writes head and body in one socket write', async () => {
    const server = await startHttp(({ res }) => res.end());
    const pool = poolFor(server.port);
    const write = Socket.prototype.write;
    let writes = 0;
    Socket.prototype.write = function (this: Socket, ...args: unknown[]) {
      // The client's writes (not the server's answers, nor the test runner's on stdout).
      if (!server.sockets.includes(this) && this !== process.stdout && this !== process.stderr) writes++;
      return (write as (...a: unknown[]) => boolean).apply(this, args);
    };
    try {
      // The first request connects; the second goes on the kept socket.
      await send(pool, server.port, 'x'.repeat(3_000));
      await send(pool, server.port, 'y'.repeat(3_000));
    } finally {
      Socket.prototype.write = write;
    }
    assert.equal(writes, 2);
    assert.deepEqual(
      server.requests.map((r) => r.body.length),
      [3_000, 3_000],
    );
  });

  it('at most maxSockets sockets; the requests beyond wait and are sent first come, first served', async () => {
    const held: Received[] = [];
    const server = await startHttp((received) => held.push(received));
    const pool = poolFor(server.port, { maxSockets: 2 });
    const results = Array.from({ length: 6 }, (_, i) => send(pool, server.port, `r${i}`));
    await turnsUntil(() => held.length === 2, 'two requests at the server');
    assert.deepEqual(pool.stats(), { open: 2, idle: 0, waiting: 4 });
    // Answer one at a time: each freed socket takes the oldest waiting request.
    while (held.length > 0) {
      const { res, body } = held.shift()!;
      res.end(body);
      await turnsUntil(() => held.length > 0 || server.requests.length === 6, 'the next request');
    }
    await turnsUntil(() => server.requests.length === 6, 'all requests');
    for (const { res, body } of held.splice(0)) res.end(body);
    const bodies = (await Promise.all(results)).map((exchange) => answerOf(exchange).body);
    assert.deepEqual(bodies, ['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
    assert.deepEqual(
      server.requests.map((r) => r.body),
      ['r0', 'r1', 'r2', 'r3', 'r4', 'r5'],
    );
    assert.equal(server.sockets.length, 2);
  });

  it('Connection: close in the answer: the socket is not kept', async () => {
    const server = await startHttp(({ res }) => res.writeHead(200, { connection: 'close' }).end('{}'));
    const pool = poolFor(server.port);
    assert.equal(answerOf(await send(pool, server.port)).body, '{}');
    assert.deepEqual(pool.stats(), { open: 0, idle: 0, waiting: 0 });
    assert.equal(answerOf(await send(pool, server.port)).body, '{}');
    assert.equal(server.sockets.length, 2);
  });

  it('103 Early Hints, then the answer', async () => {
    const server = await startHttp(({ res }) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload' });
      res.writeHead(200, { 'x-final': 'yes' }).end('{}');
    });
    const answer = answerOf(await send(poolFor(server.port), server.port));
    assert.deepEqual([answer.status, answer.headers['x-final'], answer.headers['link']], [200, 'yes', undefined]);
  });

  it('a server closing an idle kept socket: dropped silently, the next request works', async () => {
    const server = await startHttp(({ res }) => res.end('{}'));
    const pool = poolFor(server.port);
    await send(pool, server.port);
    server.sockets[0]!.end();
    await turnsUntil(() => pool.stats().open === 0, 'the idle socket dropped');
    assert.equal(answerOf(await send(pool, server.port)).status, 200);
    assert.equal(server.sockets.length, 2);
  });

  it('connection refused: the error as Node gives it', async () => {
    const server = await startHttp(() => undefined);
    const port = server.port;
    await cleanups.pop()!(); // closes the server: nothing listens on `port` any more
    const error = errorOf(await send(poolFor(port), port));
    assert.equal(error.code, 'ECONNREFUSED');
    assert.match(error.message, /ECONNREFUSED/);
  });
});

describe('Http1ConnectionPool: a broken server (raw TCP)', () => {
  it('100 Continue, then the answer in a later write', async () => {
    const server = await startRaw((socket) => {
      socket.write('HTTP/1.1 100 Continue\r\n\r\n');
      setImmediate(() => socket.write(OK));
    });
    assert.deepEqual(answerOf(await send(poolFor(server.port), server.port)).body, '{}');
  });

  it('a reset mid-answer: the error with its code', async () => {
    const server = await startRaw((socket) => {
      socket.write('HTTP/1.1 500 Internal Server Error\r\ncontent-length: 100\r\n\r\n{"a', () =>
        socket.resetAndDestroy(),
      );
    });
    assert.equal(errorOf(await send(poolFor(server.port), server.port)).code, 'ECONNRESET');
  });

  it('a close before any byte of the answer: socket hang up (ECONNRESET)', async () => {
    const server = await startRaw((socket) => socket.end());
    const error = errorOf(await send(poolFor(server.port), server.port));
    assert.deepEqual([error.message, error.code], ['socket hang up', 'ECONNRESET']);
  });

  it('a close after the head of a non-2xx answer: connection closed mid-answer (ECONNRESET)', async () => {
    const server = await startRaw((socket) => socket.end('HTTP/1.1 500 Oops\r\ncontent-length: 10\r\n\r\n'));
    const error = errorOf(await send(poolFor(server.port), server.port));
    assert.deepEqual([error.message, error.code], ['connection closed mid-answer', 'ECONNRESET']);
  });

  it('a 2xx cut off mid-body is an answer with an empty body (SWF applied the call)', async () => {
    const answers = [
      'HTTP/1.1 200 OK\r\nx-amzn-requestid: rid\r\ncontent-length: 10\r\n\r\n{"a',
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nab',
      'HTTP/1.1 204 No Content\r\nx-amzn-requestid: rid', // mid-head: the status is not known yet
    ];
    const server = await startRaw((socket, _request, index) => socket.end(answers[index]!));
    const pool = poolFor(server.port);
    assert.deepEqual(answerOf(await send(pool, server.port)), {
      status: 200,
      headers: { 'x-amzn-requestid': 'rid', 'content-length': '10' },
      body: '',
    });
    assert.deepEqual(answerOf(await send(pool, server.port)).body, '');
    assert.equal(errorOf(await send(pool, server.port)).message, 'connection closed mid-answer');
  });

  it('a body read until the connection closes', async () => {
    const server = await startRaw((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nhello, ');
      setImmediate(() => socket.end('world'));
    });
    const pool = poolFor(server.port);
    assert.equal(answerOf(await send(pool, server.port)).body, 'hello, world');
    assert.deepEqual(pool.stats(), { open: 0, idle: 0, waiting: 0 });
  });

  const malformed: [string, string][] = [
    ['a malformed status line', 'HTTP/1.1 2OO OK\r\n\r\n'],
    ['an oversized head', `HTTP/1.1 200 OK\r\nx-big: ${'b'.repeat(70_000)}\r\n\r\n`],
    ['101 Switching Protocols', 'HTTP/1.1 101 Switching Protocols\r\nupgrade: h2c\r\n\r\n'],
  ];
  for (const [name, answer] of malformed) {
    it(`${name}: a protocol error (HPE_INVALID_RESPONSE), the socket closed`, async () => {
      const server = await startRaw((socket) => socket.write(answer));
      const pool = poolFor(server.port);
      const error = errorOf(await send(pool, server.port));
      assert.deepEqual([error.name, error.code], ['Http1ProtocolError', 'HPE_INVALID_RESPONSE']);
      assert.deepEqual(pool.stats(), { open: 0, idle: 0, waiting: 0 });
      await server.closed(0);
    });
  }

  it('bytes after the answer, in the same write: the answer stands, the socket is not kept', async () => {
    const server = await startRaw((socket) => socket.write(`${OK}HTTP/1.1 200 OK\r\n\r\n`));
    const pool = poolFor(server.port);
    assert.equal(answerOf(await send(pool, server.port)).body, '{}');
    assert.deepEqual(pool.stats(), { open: 0, idle: 0, waiting: 0 });
    await server.closed(0);
  });

  it('bytes on an idle socket: the socket is dropped silently, the next request works', async () => {
    const server = await startRaw((socket) => socket.write(OK));
    const pool = poolFor(server.port);
    await send(pool, server.port);
    assert.equal(pool.stats().idle, 1);
    server.sockets[0]!.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
    await server.closed(0);
    await turnsUntil(() => pool.stats().open === 0, 'the idle socket dropped');
    assert.equal(answerOf(await send(pool, server.port)).status, 200);
    assert.equal(server.sockets.length, 2);
  });

  it('HTTP/1.0 without keep-alive: the socket is not kept', async () => {
    const server = await startRaw((socket) => socket.write('HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\n{}'));
    const pool = poolFor(server.port);
    assert.equal(answerOf(await send(pool, server.port)).body, '{}');
    assert.deepEqual(pool.stats(), { open: 0, idle: 0, waiting: 0 });
  });
});

describe('Http1ConnectionPool: timeout, abort, destroy', () => {
  it('no answer within timeoutMs: timeout, and the socket is closed', async () => {
    const server = await startHttp(() => undefined);
    const pool = poolFor(server.port);
    const startedMs = Date.now();
    assert.deepEqual(await send(pool, server.port, '{}', { timeoutMs: 50 }), { kind: 'timeout' });
    const tookMs = Date.now() - startedMs;
    assert.ok(tookMs >= 45 && tookMs < 1_000, `took ${tookMs} ms`);
    assert.deepEqual(pool.stats(), { open: 0, idle: 0, waiting: 0 });
    await server.closed(0);
  });

  it('the timeout counts the wait for a socket', async () => {
    const server = await startHttp(() => undefined);
    const pool = poolFor(server.port, { maxSockets: 1 });
    const controller = new AbortController();
    const first = send(pool, server.port, 'first', { signal: controller.signal });
    assert.deepEqual(await send(pool, server.port, 'second', { timeoutMs: 30 }), { kind: 'timeout' });
    assert.deepEqual(pool.stats(), { open: 1, idle: 0, waiting: 0 });
    controller.abort();
    assert.equal(errorOf(await first).name, 'AbortError');
    assert.deepEqual(
      server.requests.map((r) => r.body),
      ['first'],
    );
  });

  it('an aborted signal: AbortError, nothing connected or sent', async () => {
    const server = await startHttp(({ res }) => res.end());
    const controller = new AbortController();
    controller.abort();
    const pool = poolFor(server.port);
    assert.equal(errorOf(await send(pool, server.port, '{}', { signal: controller.signal })).name, 'AbortError');
    assert.deepEqual(pool.stats(), { open: 0, idle: 0, waiting: 0 });
    assert.equal(server.sockets.length, 0);
  });

  it('abort in flight: AbortError, the socket closed; abort while waiting: AbortError, never sent', async () => {
    const server = await startHttp(() => undefined);
    const pool = poolFor(server.port, { maxSockets: 1 });
    const inFlight = new AbortController();
    const waiting = new AbortController();
    const first = send(pool, server.port, 'first', { signal: inFlight.signal });
    const second = send(pool, server.port, 'second', { signal: waiting.signal });
    await turnsUntil(() => server.requests.length === 1, 'the first request at the server');
    waiting.abort();
    assert.equal(errorOf(await second).name, 'AbortError');
    assert.deepEqual(pool.stats(), { open: 1, idle: 0, waiting: 0 });
    inFlight.abort();
    assert.equal(errorOf(await first).name, 'AbortError');
    await server.closed(0);
    assert.deepEqual(pool.stats(), { open: 0, idle: 0, waiting: 0 });
    assert.equal(server.requests.length, 1);
  });

  it('one signal for many requests: one listener on it; its abort ends them all, not those of another signal', async () => {
    const server = await startHttp(() => undefined);
    const pool = poolFor(server.port, { maxSockets: 2 });
    const shared = new AbortController();
    const other = new AbortController();
    const sharedCalls = ['a', 'b', 'c'].map((body) => send(pool, server.port, body, { signal: shared.signal }));
    const otherCall = send(pool, server.port, 'd', { signal: other.signal });
    assert.equal(getEventListeners(shared.signal, 'abort').length, 1);
    assert.equal(getEventListeners(other.signal, 'abort').length, 1);
    await turnsUntil(() => server.requests.length === 2, 'two requests at the server');
    assert.deepEqual(pool.stats(), { open: 2, idle: 0, waiting: 2 });
    shared.abort();
    for (const exchange of await Promise.all(sharedCalls)) assert.equal(errorOf(exchange).name, 'AbortError');
    // 'a' and 'b' were on the two sockets (closed); 'c' was waiting; 'd' now has a new socket.
    await turnsUntil(() => server.requests.length === 3, "'d' at the server");
    assert.deepEqual(pool.stats(), { open: 1, idle: 0, waiting: 0 });
    assert.deepEqual(
      server.requests.map((r) => r.body),
      ['a', 'b', 'd'],
    );
    other.abort();
    assert.equal(errorOf(await otherCall).name, 'AbortError');
    await server.closed(0);
  });

  it('destroy(): requests in flight and waiting resolve with an error; later ones too', async () => {
    const server = await startHttp(() => undefined);
    const pool = poolFor(server.port, { maxSockets: 1 });
    const first = send(pool, server.port, 'first');
    const second = send(pool, server.port, 'second');
    await turnsUntil(() => server.requests.length === 1, 'the first request at the server');
    pool.destroy();
    for (const exchange of await Promise.all([first, second, send(pool, server.port)])) {
      assert.equal(errorOf(exchange).code, 'ERR_HTTP1_POOL_DESTROYED');
    }
    assert.deepEqual(pool.stats(), { open: 0, idle: 0, waiting: 0 });
    await server.closed(0);
  });
});

describe('Http1ConnectionPool: idle sockets and timers', () => {
  it('an idle socket is closed after idleTimeoutMs', async () => {
    const server = await startHttp(({ res }) => res.end());
    const pool = poolFor(server.port, { idleTimeoutMs: 40 });
    await send(pool, server.port);
    const idleSinceMs = Date.now();
    await server.closed(0);
    assert.ok(Date.now() - idleSinceMs >= 35, `closed after ${Date.now() - idleSinceMs} ms`);
    assert.deepEqual(pool.stats(), { open: 0, idle: 0, waiting: 0 });
  });

  it('Keep-Alive: timeout=N closes the idle socket a second before N; timeout=1 means not at all', async () => {
    const hints = ['timeout=1', 'max=100, timeout=2'];
    const server = await startRaw((socket, _request, index) =>
      socket.write(`HTTP/1.1 200 OK\r\nkeep-alive: ${hints[index]}\r\ncontent-length: 0\r\n\r\n`),
    );
    const pool = poolFor(server.port);
    await send(pool, server.port);
    assert.deepEqual(pool.stats(), { open: 0, idle: 0, waiting: 0 });
    await send(pool, server.port);
    const idleSinceMs = Date.now();
    assert.equal(pool.stats().idle, 1);
    await server.closed(1);
    const idleMs = Date.now() - idleSinceMs;
    assert.ok(idleMs >= 950 && idleMs < 1_900, `closed after ${idleMs} ms`);
  });

  it('timers: one per request, one per idle socket (reused), none once the socket is closed', async () => {
    const live = new Set<number>();
    let created = 0;
    // The pool's timers only (the server has its own), told by their callbacks.
    const poolCallbacks = new Set(['onRequestTimeout', 'onIdleTimeout']);
    const hook = createHook({
      init(id, type, _trigger, resource) {
        const callback = (resource as { _onTimeout?: { name?: string } })._onTimeout;
        if (type !== 'Timeout' || !poolCallbacks.has(callback?.name ?? '')) return;
        live.add(id);
        created++;
      },
      destroy(id) {
        live.delete(id);
      },
    }).enable();
    try {
      const server = await startHttp(({ res }) => res.end());
      const pool = poolFor(server.port, { idleTimeoutMs: 30 });
      for (let i = 0; i < 5; i++) await send(pool, server.port);
      await server.closed(0); // the idle timeout
      assert.equal(created, 5 + 1);
      await turnsUntil(() => live.size === 0, 'every timer gone');
    } finally {
      hook.disable();
    }
  });
});

describe('Http1ConnectionPool: TLS', () => {
  let directory: string;
  let key: Buffer;
  let cert: Buffer;
  before(() => {
    directory = mkdtempSync(join(tmpdir(), 'http1-pool-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        ...['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
        ...['-keyout', 'key.pem', '-out', 'cert.pem', '-days', '1', '-subj', '/CN=localhost'],
        ...['-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
      ],
      { cwd: directory, stdio: 'pipe' },
    );
    key = readFileSync(join(directory, 'key.pem'));
    cert = readFileSync(join(directory, 'cert.pem'));
  });
  after(() => rmSync(directory, { recursive: true, force: true }));

  async function startHttps(answer: (res: ServerResponse) => void) {
    const seen: { servername: string | false; alpn: string | false | null; reused: boolean }[] = [];
    const server = createHttpsServer({ key, cert, ALPNProtocols: ['http/1.1'] }, (req, res) => {
      const socket = req.socket as TLSSocket;
      seen.push({
        servername: socket.servername ?? false,
        alpn: socket.alpnProtocol,
        reused: socket.isSessionReused(),
      });
      req.resume().on('end', () => answer(res));
    });
    return { ...(await listen(server)), seen };
  }

  it('trusting the certificate: answers over one kept TLS socket, ALPN http/1.1, SNI by name only', async () => {
    const server = await startHttps((res) => res.end('{}'));
    const byIp = poolFor(server.port, { secure: true, tls: { ca: cert } });
    assert.equal(answerOf(await send(byIp, server.port)).body, '{}');
    assert.equal(answerOf(await send(byIp, server.port)).body, '{}');
    assert.equal(server.sockets.length, 1);
    const byName = poolFor(server.port, { secure: true, tls: { ca: cert }, hostname: 'localhost' });
    assert.equal(answerOf(await send(byName, server.port)).status, 200);
    assert.deepEqual(
      server.seen.map(({ servername, alpn }) => ({ servername, alpn })),
      [
        { servername: false, alpn: 'http/1.1' },
        { servername: false, alpn: 'http/1.1' },
        { servername: 'localhost', alpn: 'http/1.1' },
      ],
    );
  });

  it('resumes the TLS session on the next connection', async () => {
    const server = await startHttps((res) => res.writeHead(200, { connection: 'close' }).end());
    const pool = poolFor(server.port, { secure: true, tls: { ca: cert } });
    await send(pool, server.port);
    await send(pool, server.port);
    assert.deepEqual(
      server.seen.map((s) => s.reused),
      [false, true],
    );
  });

  it("a certificate Node's default CA store does not trust is refused", async () => {
    const server = await startHttps((res) => res.end());
    const error = errorOf(await send(poolFor(server.port, { secure: true }), server.port));
    assert.match(error.code ?? '', /SELF_SIGNED|UNABLE_TO_VERIFY/);
  });
});
