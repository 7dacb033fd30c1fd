import { connect as netConnect, isIP, type NetConnectOpts, type Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, type ConnectionOptions } from 'node:tls';
import { SlotList, type Slotted } from '../slot-list.js';
import { Http1ResponseParser } from './http1-response-parser.js';

/**
 * HTTP/1.1 requests to ONE origin over kept-alive sockets, without node:http: the request is
 * written as one buffer, the answer read by Http1ResponseParser. It does what the sidecar's
 * calls to SWF need and nothing else (no pipelining, no redirects, no proxies, no upgrades), at
 * about a third of node:http's CPU per request and far fewer short-lived objects (figures in
 * aws-swf-port.ts).
 *
 * Sockets: at most `maxSockets`, opened on demand, the most recently used idle one first (as
 * Node's Agent, `scheduling: 'lifo'`, so that a quiet pool lets its other sockets expire);
 * requests beyond that wait FIFO. An idle socket is unref'd (it keeps no process alive), closed
 * after `idleTimeoutMs` or a little before the server's `Keep-Alive: timeout=N` hint, and
 * dropped silently when the server closes it. Timers: the request's own while it runs, one
 * unref'd idle timer per open socket (re-armed with `refresh()`, not re-created, each time the
 * socket goes idle), none once every socket is closed: an idle pool never wakes the process.
 */

export interface Http1ConnectionPoolOptions {
  readonly hostname: string;
  readonly port: number;
  readonly secure: boolean;
  /** TLS SNI and certificate name; default `hostname`. Never sent for an IP literal. */
  readonly servername?: string;
  readonly maxSockets: number;
  /** How long a socket may stay idle before it is closed; default DEFAULT_IDLE_TIMEOUT_MS. */
  readonly idleTimeoutMs?: number;
  /** Overrides of Node's default CA store (tests). */
  readonly tls?: Pick<ConnectionOptions, 'ca' | 'rejectUnauthorized'>;
}

/**
 * How one exchange ended. `answer`: a complete response, or a 2xx cut off mid-body (then with an
 * empty body: SWF already applied the call). `timeout`: `timeoutMs` passed (socket destroyed).
 * `error`: Node's own error (its `code` kept: ECONNRESET, ECONNREFUSED, EPIPE...), an
 * `AbortError`, an Http1ProtocolError (`HPE_INVALID_RESPONSE`), `socket hang up` / `connection
 * closed mid-answer` (code ECONNRESET) for a clean close before the complete answer, or
 * ERR_HTTP1_POOL_DESTROYED.
 */
export type Http1Exchange =
  | {
      readonly kind: 'answer';
      readonly status: number;
      readonly headers: Readonly<Record<string, string>>;
      readonly body: Buffer;
    }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'error'; readonly error: Error };

export interface Http1PoolStats {
  /** Sockets open or connecting, busy or idle. */
  readonly open: number;
  readonly idle: number;
  /** Requests waiting for a socket. */
  readonly waiting: number;
}

/**
 * 4 s, as Node's global Agent and undici: under the 5 s keep-alive timeout of Node servers (the
 * most common short one), so that the pool, not the server, closes an idle socket and a request
 * never races the server's FIN. SWF endpoints keep idle connections longer; at the sidecar's
 * usual rates (tens to thousands of calls a second) sockets never reach this, and a quiet
 * sidecar pays one reconnect (a TLS handshake, resumed when possible) for its next call.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 4_000;
/** Closed this long before the server's Keep-Alive timeout hint, as Node's Agent does. */
const KEEP_ALIVE_HINT_MARGIN_MS = 1_000;

const TIMEOUT: Http1Exchange = Object.freeze({ kind: 'timeout' });
const EMPTY_BODY = Buffer.alloc(0);

export class Http1ConnectionPool {
  private readonly connections = new Set<Connection>();
  /** Idle connections, the most recently used last. */
  private readonly idle: Connection[] = [];
  private readonly waiting: PendingRequest[] = [];
  /** Every request not yet finished, waiting or on a socket: what an abort goes through. */
  private readonly unfinished = new SlotList<PendingRequest>();
  /**
   * The signals the pool listens to, once each, rather than once per request: the sidecar sends
   * every call with the same signal, and adding then removing a listener per request churned
   * that signal's listener Map (slot-list.ts says what that costs).
   */
  private readonly watchedSignals = new WeakSet<AbortSignal>();
  private readonly idleTimeoutMs: number;
  private readonly tcpOptions: NetConnectOpts;
  /** With one SecureContext for all the pool's connections (Node would build one per connection). */
  private readonly tlsOptions: ConnectionOptions | undefined;
  /** The last TLS session the server gave, to resume the next connection's handshake. */
  private tlsSession: Buffer | undefined;
  private destroyed = false;

  constructor(private readonly options: Http1ConnectionPoolOptions) {
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.tcpOptions = { host: options.hostname, port: options.port };
    const servername = options.servername ?? options.hostname;
    this.tlsOptions = options.secure
      ? {
          ...this.tcpOptions,
          // An IP literal is checked against the certificate's IP names, and never sent as SNI.
          ...(isIP(servername) === 0 ? { servername } : {}),
          ALPNProtocols: ['http/1.1'],
          secureContext: createSecureContext({ ca: options.tls?.ca }),
          ...(options.tls?.rejectUnauthorized === undefined
            ? {}
            : { rejectUnauthorized: options.tls.rejectUnauthorized }),
        }
      : undefined;
  }

  /**
   * Writes `head` (the complete request head, latin1, ending in the empty line) and `body` in
   * one socket write, and reads the answer. Never throws, never rejects. `timeoutMs` covers
   * waiting for a socket, connecting and the whole exchange.
   */
  request(head: string, body: Buffer, timeoutMs: number, signal: AbortSignal): Promise<Http1Exchange> {
    if (this.destroyed) return Promise.resolve({ kind: 'error', error: poolDestroyedError() });
    if (signal.aborted) return Promise.resolve({ kind: 'error', error: abortError() });
    const payload = Buffer.allocUnsafe(head.length + body.length);
    payload.write(head, 0, 'latin1');
    body.copy(payload, head.length);
    this.watch(signal);
    return new Promise<Http1Exchange>((resolve) => {
      const request = new PendingRequest(this, payload, signal, resolve, timeoutMs);
      this.unfinished.add(request);
      const idle = this.idle.pop();
      if (idle !== undefined) idle.start(request);
      else if (this.connections.size < this.options.maxSockets) this.connect().start(request);
      else this.waiting.push(request);
    });
  }

  /** Closes every socket; requests in flight or waiting resolve with ERR_HTTP1_POOL_DESTROYED. */
  destroy(): void {
    this.destroyed = true;
    for (const request of this.waiting.splice(0)) request.finish({ kind: 'error', error: poolDestroyedError() });
    for (const connection of this.connections) this.drop(connection, poolDestroyedError(), false);
  }

  stats(): Http1PoolStats {
    return { open: this.connections.size, idle: this.idle.length, waiting: this.waiting.length };
  }

  private watch(signal: AbortSignal): void {
    if (this.watchedSignals.has(signal)) return;
    this.watchedSignals.add(signal);
    signal.addEventListener('abort', () => this.abortRequestsOf(signal), { once: true });
  }

  /** Waiting requests first, so that a socket the aborted ones free is not given to another of them. */
  private abortRequestsOf(signal: AbortSignal): void {
    const aborted = this.unfinished.toArray().filter((request) => request.signal === signal);
    for (const request of aborted) if (request.connection === undefined) this.cancel(request, abortedExchange());
    for (const request of aborted) if (request.connection !== undefined) this.cancel(request, abortedExchange());
  }

  /** @internal For PendingRequest: it finished. */
  forget(request: PendingRequest): void {
    this.unfinished.remove(request);
  }

  private connect(): Connection {
    let socket: Socket;
    if (this.tlsOptions !== undefined) {
      socket = tlsConnect(
        this.tlsSession === undefined ? this.tlsOptions : { ...this.tlsOptions, session: this.tlsSession },
      ).on('session', (session: Buffer) => (this.tlsSession = session));
    } else {
      socket = netConnect(this.tcpOptions);
    }
    socket.setNoDelay(true);
    // What Node's Agent sets on a kept socket: TCP keep-alive probes find a peer gone silently.
    socket.setKeepAlive(true, 1_000);
    const connection = new Connection(this, socket);
    this.connections.add(connection);
    return connection;
  }

  /** @internal For Connection: the response is complete: the socket serves the next waiting request, goes idle, or closes. */
  finished(connection: Connection, parser: Http1ResponseParser): void {
    const request = connection.request;
    connection.request = undefined;
    const idleMs = parser.keepAlive ? Math.min(this.idleTimeoutMs, keepAliveHintMs(parser.headers)) : 0;
    if (request !== undefined) {
      request.connection = undefined;
      request.finish({ kind: 'answer', status: parser.status, headers: parser.headers, body: parser.body });
    }
    if (idleMs <= 0 || this.destroyed) {
      this.drop(connection, undefined, false);
      return;
    }
    const next = this.waiting.shift();
    if (next !== undefined) {
      connection.start(next);
      return;
    }
    connection.socket.unref();
    connection.armIdleTimer(idleMs);
    this.idle.push(connection);
  }

  /**
   * @internal For Connection. Closes a connection (idempotent) and settles its request with `error`, or, when `cutOff`
   * and the answer's 2xx status had arrived, with that answer and an empty body. Then opens a
   * socket for a waiting request, if any.
   */
  drop(connection: Connection, error: Error | undefined, cutOff: boolean): void {
    if (connection.closed) return;
    connection.closed = true;
    this.connections.delete(connection);
    const idleIndex = this.idle.lastIndexOf(connection);
    if (idleIndex !== -1) this.idle.splice(idleIndex, 1);
    connection.close();
    const request = connection.request;
    connection.request = undefined;
    if (request !== undefined) {
      request.connection = undefined;
      const { status, headers } = connection.parser;
      request.finish(
        cutOff && status >= 200 && status < 300
          ? { kind: 'answer', status, headers, body: EMPTY_BODY }
          : { kind: 'error', error: error ?? closedError(connection.parser.started) },
      );
    }
    if (this.destroyed) return;
    const next = this.waiting.length > 0 && this.connections.size < this.options.maxSockets;
    if (next) this.connect().start(this.waiting.shift()!);
  }

  /** @internal For PendingRequest. Timeout or abort: the request resolves with `exchange`, its socket (if it has one) closes. */
  cancel(request: PendingRequest, exchange: Http1Exchange): void {
    const connection = request.connection;
    request.finish(exchange);
    if (connection !== undefined) {
      connection.request = undefined;
      request.connection = undefined;
      this.drop(connection, undefined, false);
      return;
    }
    const index = this.waiting.indexOf(request);
    if (index !== -1) this.waiting.splice(index, 1);
  }

  /** @internal For Connection. A connection failed: do not offer its session to the next one. */
  forgetTlsSession(): void {
    this.tlsSession = undefined;
  }
}

/** One socket, its parser, and the request it carries (none while idle). */
class Connection {
  readonly parser = new Http1ResponseParser();
  request: PendingRequest | undefined;
  closed = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private idleTimerMs = 0;

  constructor(
    private readonly pool: Http1ConnectionPool,
    readonly socket: Socket,
  ) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  /** Writes the request (buffered by Node until the socket connects, for a new one). */
  start(request: PendingRequest): void {
    this.request = request;
    request.connection = this;
    this.socket.ref();
    this.parser.expect();
    const payload = request.payload;
    request.payload = EMPTY_BODY;
    this.socket.write(payload);
  }

  /** One timer per socket: refreshed each time it goes idle; when it fires busy, it does nothing. */
  armIdleTimer(ms: number): void {
    if (this.idleTimer !== undefined && this.idleTimerMs === ms) {
      this.idleTimer.refresh();
      return;
    }
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(onIdleTimeout, ms, this).unref();
    this.idleTimerMs = ms;
  }

  idleTimeout(): void {
    if (this.request === undefined) this.pool.drop(this, undefined, false);
  }

  close(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.socket.destroy();
  }

  private readonly onData = (chunk: Buffer): void => {
    let complete: boolean;
    try {
      complete = this.parser.push(chunk);
    } catch (error) {
      // Malformed, oversized, or bytes on an idle socket: the connection is unusable.
      this.pool.drop(this, error as Error, false);
      return;
    }
    if (complete) this.pool.finished(this, this.parser);
  };

  private readonly onEnd = (): void => {
    if (this.parser.end()) this.pool.finished(this, this.parser);
    else this.pool.drop(this, undefined, true);
  };

  private readonly onError = (error: Error): void => {
    this.pool.forgetTlsSession();
    this.pool.drop(this, error, true);
  };

  private readonly onClose = (): void => this.pool.drop(this, undefined, true);
}

function onIdleTimeout(connection: Connection): void {
  connection.idleTimeout();
}

/** A request until it is answered: its bytes, its timer, and the signal that may abort it. */
class PendingRequest implements Slotted {
  connection: Connection | undefined;
  /** Its place in the pool's unfinished requests. */
  slot = -1;
  private readonly timer: NodeJS.Timeout;
  private done = false;

  constructor(
    private readonly pool: Http1ConnectionPool,
    public payload: Buffer,
    readonly signal: AbortSignal,
    private readonly resolve: (exchange: Http1Exchange) => void,
    timeoutMs: number,
  ) {
    this.timer = setTimeout(onRequestTimeout, timeoutMs, this);
  }

  timeout(): void {
    this.pool.cancel(this, TIMEOUT);
  }

  finish(exchange: Http1Exchange): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.pool.forget(this);
    this.payload = EMPTY_BODY;
    this.resolve(exchange);
  }
}

function onRequestTimeout(request: PendingRequest): void {
  request.timeout();
}

/** The last Keep-Alive header read, and what it says. */
let lastHint = { text: '', ms: Number.POSITIVE_INFINITY };

/**
 * The server's `Keep-Alive: timeout=N` hint less a second, as Node's Agent reads it (0: do not
 * reuse the socket); Infinity without a hint.
 */
function keepAliveHintMs(headers: Readonly<Record<string, string>>): number {
  const hint = headers['keep-alive'];
  if (hint === undefined) return Number.POSITIVE_INFINITY;
  // A server sends the same hint on every answer: read it once.
  if (hint !== lastHint.text) {
    const seconds = /(?:^|[,;\s])timeout\s*=\s*(\d+)/i.exec(hint)?.[1];
    const ms = seconds === undefined ? Number.POSITIVE_INFINITY : Number(seconds) * 1000 - KEEP_ALIVE_HINT_MARGIN_MS;
    lastHint = { text: hint, ms: Math.max(0, ms) };
  }
  return lastHint.ms;
}

function abortedExchange(): Http1Exchange {
  return { kind: 'error', error: abortError() };
}

function abortError(): Error {
  return Object.assign(new Error('Request aborted'), { name: 'AbortError' });
}

function poolDestroyedError(): Error {
  return Object.assign(new Error('connection pool destroyed'), { code: 'ERR_HTTP1_POOL_DESTROYED' });
}

/** The peer closed cleanly before the complete answer: Node's wording, and its code. */
function closedError(started: boolean): Error {
  return Object.assign(new Error(started ? 'connection closed mid-answer' : 'socket hang up'), {
    code: 'ECONNRESET',
  });
}
