import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { status, type Server } from '@grpc/grpc-js';
import { deadlineTimerMs, parseGrpcTimeout } from './grpc-timeout.js';
import type { CallInstruments } from './instrument-unary.js';
import { toCallStatus, type CallStatus } from './status-codes.js';
import type { AnyUnaryMethod } from './unary-method.js';

/** A method the fast path serves, by its HTTP/2 path (/package.Service/Method). */
export interface FastUnaryRoute {
  readonly method: AnyUnaryMethod;
  readonly instruments: CallInstruments;
  readonly frames: ResponseFrames;
}

/**
 * Length-prefixed response messages. The last one is kept: most answers are the same constant
 * message (QUEUED), which then costs no allocation or copy. Frames are only ever read.
 */
export class ResponseFrames {
  private lastMessage: Buffer | undefined;
  private lastFrame: Buffer | undefined;

  frameOf(message: Buffer): Buffer {
    if (message === this.lastMessage && this.lastFrame !== undefined) return this.lastFrame;
    const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + message.length);
    frame[0] = 0;
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, FRAME_HEADER_BYTES);
    this.lastMessage = message;
    this.lastFrame = frame;
    return frame;
  }
}

type StreamListener = (
  this: EventEmitter,
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  flags: number,
  rawHeaders: string[],
) => void;

/**
 * Serves the sidecar's own unary calls straight off the HTTP/2 stream, in front of grpc-js.
 *
 * grpc-js spends about 55 µs of CPU on every unary call (a call object, interceptor chain,
 * metadata maps, message framer, per-call events); answering from the stream takes about half.
 * Every call the fast path does not take exactly as it is (any other method, a compressed
 * message, an unusual content-type, method or timeout header) is handed to grpc-js untouched, so
 * health, reflection, compression and every error grpc-js answers keep grpc-js's behaviour.
 *
 * The one dependency on grpc-js's internals: the HTTP/2 servers it binds are read from its
 * private `http2Servers` map, and its single 'stream' listener on each is wrapped. If that shape
 * is not found (another grpc-js version), nothing is changed and false is returned: grpc-js then
 * serves every call, as before. test/grpc/unary-fast-path.test.ts fails in that case.
 */
export function installUnaryFastPath(
  server: Server,
  routes: ReadonlyMap<string, FastUnaryRoute>,
  maxReceiveMessageBytes: number,
): boolean {
  const http2Servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(http2Servers instanceof Map) || http2Servers.size === 0) return false;
  const hooks: { http2Server: EventEmitter; grpcJs: StreamListener }[] = [];
  for (const http2Server of http2Servers.keys() as IterableIterator<unknown>) {
    if (!(http2Server instanceof EventEmitter)) return false;
    const listeners = http2Server.listeners('stream');
    if (listeners.length !== 1) return false;
    hooks.push({ http2Server: http2Server as EventEmitter, grpcJs: listeners[0] as StreamListener });
  }
  for (const { http2Server, grpcJs } of hooks) {
    http2Server.removeListener('stream', grpcJs);
    http2Server.on('stream', function (this: EventEmitter, stream, headers, flags, rawHeaders) {
      const fast = fastRouteFor(headers as IncomingHttpHeaders, routes);
      if (fast === undefined) {
        grpcJs.call(this, stream as ServerHttp2Stream, headers as IncomingHttpHeaders, flags as number, rawHeaders);
        return;
      }
      const { path, route, timeoutMs } = fast;
      new FastUnaryCall(stream as ServerHttp2Stream, path, route, timeoutMs, maxReceiveMessageBytes).start();
    });
  }
  return true;
}

/** The route of a plain unary call to one of `routes`, with its timeout; otherwise undefined. */
function fastRouteFor(
  headers: IncomingHttpHeaders,
  routes: ReadonlyMap<string, FastUnaryRoute>,
): { path: string; route: FastUnaryRoute; timeoutMs: number | undefined } | undefined {
  const path = headers[':path'];
  const route = path === undefined ? undefined : routes.get(path);
  if (path === undefined || route === undefined || headers[':method'] !== 'POST') return undefined;
  const contentType = headers['content-type'];
  if (
    contentType === undefined ||
    !(
      contentType === 'application/grpc' ||
      contentType.startsWith('application/grpc+proto') ||
      contentType.startsWith('application/grpc;')
    )
  ) {
    return undefined;
  }
  const encoding = headers['grpc-encoding'];
  if (encoding !== undefined && encoding !== 'identity') return undefined;
  const timeoutHeader = headers['grpc-timeout'];
  if (timeoutHeader === undefined) return { path, route, timeoutMs: undefined };
  const timeoutMs = typeof timeoutHeader === 'string' ? parseGrpcTimeout(timeoutHeader) : undefined;
  return timeoutMs === undefined ? undefined : { path, route, timeoutMs };
}

/** What grpc-js sends, so that a client cannot tell the two paths apart. */
const RESPONSE_HEADERS = Object.freeze({
  ':status': 200,
  'content-type': 'application/grpc+proto',
  'grpc-accept-encoding': 'identity,deflate,gzip',
  'grpc-encoding': 'identity',
});
const OK_TRAILERS = Object.freeze({ 'grpc-status': '0', 'grpc-message': 'OK' });
const RESPOND_WITH_TRAILERS = Object.freeze({ waitForTrailers: true, sendDate: false });
const RESPOND_TRAILERS_ONLY = Object.freeze({ endStream: true, sendDate: false });
const FRAME_HEADER_BYTES = 5;
/** See FastUnaryCall.onClose. */
const DEADLINE_RESET_SLACK_MS = 20;
const NO_TRAILERS: Readonly<Record<string, string>> = Object.freeze({});
const DEADLINE_EXCEEDED: CallStatus = {
  code: status.DEADLINE_EXCEEDED,
  details: 'Deadline exceeded',
  trailers: NO_TRAILERS,
};
const ignore = (): void => undefined;

/** One call on the fast path: read one length-prefixed message, run the method, answer once. */
class FastUnaryCall {
  private readonly chunks: Buffer[] = [];
  private receivedBytes = 0;
  /** The message length its 5-byte prefix declares; -1 until those bytes arrived. */
  private declaredLength = -1;
  private startedAtMs = 0;
  /** Wall-clock date after which the caller has given up (gRPC deadlines are wall-clock). */
  private deadlineAtMs = Number.POSITIVE_INFINITY;
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** The caller has its answer, or has gone away. */
  private finished = false;

  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly path: string,
    private readonly route: FastUnaryRoute,
    private readonly timeoutMs: number | undefined,
    private readonly maxMessageBytes: number,
  ) {}

  start(): void {
    const { stream } = this;
    this.startedAtMs = this.route.instruments.begin();
    stream.on('error', ignore);
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.once('end', () => this.onEnd());
    stream.once('close', () => this.onClose());
    if (this.timeoutMs !== undefined) {
      this.deadlineAtMs = Date.now() + this.timeoutMs;
      const delayMs = deadlineTimerMs(this.timeoutMs);
      if (delayMs === undefined) return;
      this.deadlineTimer = setTimeout(() => this.fail(DEADLINE_EXCEEDED), delayMs);
    }
  }

  private onData(chunk: Buffer): void {
    if (this.finished) return;
    this.chunks.push(chunk);
    this.receivedBytes += chunk.length;
    if (this.declaredLength < 0 && this.receivedBytes >= FRAME_HEADER_BYTES) {
      const head = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks, this.receivedBytes);
      this.declaredLength = head.readUInt32BE(1);
      if (this.declaredLength > this.maxMessageBytes) {
        this.fail({
          code: status.RESOURCE_EXHAUSTED,
          details: `Received message larger than max (${this.declaredLength} vs ${this.maxMessageBytes})`,
          trailers: NO_TRAILERS,
        });
        return;
      }
    }
    if (this.declaredLength >= 0 && this.receivedBytes > FRAME_HEADER_BYTES + this.declaredLength) {
      this.fail({
        code: status.UNIMPLEMENTED,
        details: `Received a second request message for ${this.path}`,
        trailers: NO_TRAILERS,
      });
    }
  }

  private onEnd(): void {
    if (this.finished) return;
    const message = this.readMessage();
    if ('code' in message) {
      this.fail(message);
      return;
    }
    const { method } = this.route;
    let answer: Promise<unknown>;
    try {
      answer = method.handle(method.decode(message));
    } catch (error) {
      this.fail(toCallStatus(error));
      return;
    }
    answer.then(
      (response) => {
        let encoded: Buffer;
        try {
          encoded = method.encode(response);
        } catch (error) {
          this.fail(toCallStatus(error));
          return;
        }
        this.succeed(encoded);
      },
      (error: unknown) => this.fail(toCallStatus(error)),
    );
  }

  /**
   * The one message of a unary request (onData has refused anything longer), or the status that
   * refuses the body: grpc-js's codes and words for the same cases.
   */
  private readMessage(): Buffer | CallStatus {
    if (this.declaredLength < 0 || this.receivedBytes < FRAME_HEADER_BYTES + this.declaredLength) {
      return {
        code: status.UNIMPLEMENTED,
        details: `Received no request message for ${this.path}`,
        trailers: NO_TRAILERS,
      };
    }
    const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.receivedBytes);
    this.chunks.length = 0;
    if (body[0] !== 0) {
      return {
        code: status.INTERNAL,
        details: 'the message is flagged compressed, but the call has no grpc-encoding',
        trailers: NO_TRAILERS,
      };
    }
    return body.subarray(FRAME_HEADER_BYTES);
  }

  private succeed(message: Buffer): void {
    if (this.finished) return;
    if (this.deadlinePassed()) {
      this.fail(DEADLINE_EXCEEDED);
      return;
    }
    this.finish(status.OK);
    const { stream } = this;
    if (stream.destroyed || stream.closed) return;
    stream.respond(RESPONSE_HEADERS, RESPOND_WITH_TRAILERS);
    stream.once('wantTrailers', () => stream.sendTrailers(OK_TRAILERS));
    stream.end(this.route.frames.frameOf(message));
  }

  /**
   * Past the deadline the caller has seen DEADLINE_EXCEEDED, even when the deadline timer has not
   * run yet (it may be due in this same turn of the loop): whatever the handler answers then is
   * recorded and sent as that, as on the grpc-js path (instrument-unary.ts). Wall-clock on
   * purpose, like gRPC deadlines.
   */
  private deadlinePassed(): boolean {
    return Date.now() >= this.deadlineAtMs;
  }

  /** Trailers-only answer: the status in the response headers, which end the stream. */
  private fail(given: CallStatus): void {
    if (this.finished) return;
    const callStatus = this.deadlinePassed() ? DEADLINE_EXCEEDED : given;
    this.finish(callStatus.code);
    const { stream } = this;
    if (stream.destroyed || stream.closed || stream.headersSent) return;
    stream.respond(
      {
        ...RESPONSE_HEADERS,
        ...callStatus.trailers,
        'grpc-status': String(callStatus.code),
        'grpc-message': encodeURI(callStatus.details),
      },
      RESPOND_TRAILERS_ONLY,
    );
  }

  /**
   * The stream closed before an answer: the caller cancelled, or its deadline passed first. A
   * client resets the stream when its own deadline passes, which is a little before the date
   * computed here from grpc-timeout on arrival: a reset that close to the deadline is counted as
   * the DEADLINE_EXCEEDED its caller saw.
   */
  private onClose(): void {
    if (this.finished) return;
    const expired = Date.now() >= this.deadlineAtMs - DEADLINE_RESET_SLACK_MS;
    this.finish(expired ? status.DEADLINE_EXCEEDED : status.CANCELLED);
  }

  private finish(code: status): void {
    this.finished = true;
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    this.route.instruments.end(code, this.startedAtMs);
  }
}
