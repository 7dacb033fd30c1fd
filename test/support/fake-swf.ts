/**
 * A fault-injecting fake of the one Amazon SWF call the sidecar makes, RespondActivityTaskFailed.
 *
 * moto (see /work/shared/SWF-FACTS.md) is a real emulator but enforces no quota, answers a double
 * failure with an HTML 500 and cannot lose packets. This fake speaks SWF's JSON 1.0 protocol over
 * real HTTP on 127.0.0.1, so a real `SWFClient` (`endpoint: fake.url`) can be pointed at it, and
 * the test decides how it misbehaves:
 *
 * - an account-quota token bucket answering `ThrottlingException` (HTTP 400, `Rate exceeded`),
 *   and a random fraction of throttles on top (other clients draining the shared quota);
 * - random `InternalFailure` (500) and `ServiceUnavailable` (503);
 * - fixed latency, latency spikes, requests that never get an answer, connection resets;
 * - `UnknownResourceFault` for a token it already accepted a failure for (a task fails once),
 *   plus `OperationNotPermittedFault` and `ValidationException` on demand;
 * - refusing connections for a while, then listening again on the same port.
 *
 * Every call is recorded with the answer it got, so tests can assert on what SWF "saw".
 * Signatures are not checked; any static credentials work.
 *
 * Decision order for one request (the first that applies wins), chosen so each knob can be
 * tested alone and so that calls lost "on the wire" cost no quota:
 *   unknown target -> reset -> hang -> random throttle -> throttle (takes a bucket token)
 *   -> 500 -> 503 -> validation -> forbidden -> unknown / already-failed token -> accepted.
 * The answer is decided (and the token marked failed) on arrival; latency only delays the reply,
 * like a response lost in a slow network after SWF has applied it.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { busiestWindow } from './busiest-window.js';

/** The one operation this fake implements. */
export const RESPOND_ACTIVITY_TASK_FAILED_TARGET = 'SimpleWorkflowService.RespondActivityTaskFailed';

/** Limits from the SWF API reference: the SDK does not enforce them, SWF does. */
export const SWF_LIMITS = {
  taskTokenMaxChars: 1024,
  reasonMaxChars: 256,
  detailsMaxChars: 32_768,
} as const;

/** The error names this fake can answer with, and their HTTP status (throttling is 400, not 429). */
export const FAKE_SWF_ERROR_STATUS = {
  ThrottlingException: 400,
  UnknownResourceFault: 400,
  OperationNotPermittedFault: 400,
  ValidationException: 400,
  UnknownOperationException: 400,
  InternalFailure: 500,
  ServiceUnavailable: 503,
} as const;

export type FakeSwfErrorName = keyof typeof FAKE_SWF_ERROR_STATUS;

/**
 * What a call got: `accepted` (HTTP 200), an error name, `reset` (socket destroyed without an
 * answer) or `hang` (never answered).
 */
export type FakeSwfAnswer = 'accepted' | 'reset' | 'hang' | FakeSwfErrorName;

/** One request as the fake saw it. */
export interface FakeSwfCall {
  /** Arrival time in ms from the `now` clock (default `performance.now()`). */
  readonly atMs: number;
  /** The `X-Amz-Target` header, `undefined` when absent. */
  readonly target: string | undefined;
  /** Body fields; `undefined` when absent from the JSON body (distinct from `""`). */
  readonly taskToken: string | undefined;
  readonly reason: string | undefined;
  readonly details: string | undefined;
  readonly answer: FakeSwfAnswer;
  /** How long the reply was held back (fixed latency plus any spike), in ms. */
  readonly delayMs: number;
  /**
   * For an answer that is written (accepted or an error): `true` once written to an open socket,
   * `false` when the client had already closed it, so the client never read this answer
   * (it gave up on the call, perhaps before the fake even read it). `undefined` until then, and
   * for `reset` and `hang`.
   */
  replied?: boolean;
}

/** Everything that can be configured at start and changed later with `configure()`. */
export interface FakeSwfBehaviour {
  /** Quota bucket capacity in calls, starting full. Default `Infinity` (no throttling). */
  bucketSize: number;
  /** Quota bucket refill in calls per second. Default 0 (irrelevant while the bucket is infinite). */
  refillPerSecond: number;
  /**
   * Fraction [0, 1] of calls answered `ThrottlingException` at random, whatever the bucket holds
   * (they take no bucket token): the quota shared with other clients, seen from one of them.
   * Default 0.
   */
  throttleRate: number;
  /** Fraction [0, 1] of calls answered 500 `InternalFailure`. Default 0. */
  internalErrorRate: number;
  /** Fraction [0, 1] of calls answered 503 `ServiceUnavailable`. Default 0. */
  unavailableRate: number;
  /** Delay added to every answer, in ms. Default 0. */
  latencyMs: number;
  /** Fraction [0, 1] of calls that get `spikeLatencyMs` more delay. Default 0. */
  spikeRate: number;
  /** Extra delay for a spiked call, in ms. Default 0. */
  spikeLatencyMs: number;
  /** Never answer: the request stays open until the client aborts or the fake closes. Default false. */
  hang: boolean;
  /** Fraction [0, 1] of calls whose socket is destroyed without an answer. Default 0. */
  resetRate: number;
  /** Tokens answered `UnknownResourceFault` as if their task had timed out. Default: none. */
  unknownTokens: ReadonlySet<string> | ((taskToken: string) => boolean);
  /** Answer `OperationNotPermittedFault` (IAM denies the caller): all calls, or by token. Default false. */
  forbidden: boolean | ((taskToken: string) => boolean);
  /** Random source in [0, 1) for the rates above. Default `Math.random`. */
  random: () => number;
}

export interface FakeSwfOptions extends Partial<FakeSwfBehaviour> {
  /**
   * Clock in ms for the bucket refill and the call timestamps. Default `performance.now()`.
   * Only read on arrival of a request, so a test clock needs no timers.
   */
  now?: () => number;
}

const DEFAULT_BEHAVIOUR: FakeSwfBehaviour = {
  bucketSize: Number.POSITIVE_INFINITY,
  refillPerSecond: 0,
  throttleRate: 0,
  internalErrorRate: 0,
  unavailableRate: 0,
  latencyMs: 0,
  spikeRate: 0,
  spikeLatencyMs: 0,
  hang: false,
  resetRate: 0,
  unknownTokens: new Set<string>(),
  forbidden: false,
  random: Math.random,
};

/** Throws a RangeError listing every bad value, so a typo in a test fails loudly. */
function validateBehaviour(b: FakeSwfBehaviour): void {
  const problems: string[] = [];
  for (const key of ['throttleRate', 'internalErrorRate', 'unavailableRate', 'spikeRate', 'resetRate'] as const) {
    const v = b[key];
    if (!(v >= 0 && v <= 1)) problems.push(`${key}: expected a fraction in [0, 1], got ${v}`);
  }
  for (const key of ['latencyMs', 'spikeLatencyMs', 'refillPerSecond'] as const) {
    const v = b[key];
    if (!(Number.isFinite(v) && v >= 0)) problems.push(`${key}: expected a finite number >= 0, got ${v}`);
  }
  if (!(b.bucketSize >= 0)) problems.push(`bucketSize: expected a number >= 0, got ${b.bucketSize}`);
  if (problems.length > 0) throw new RangeError(`FakeSwf: ${problems.join('; ')}`);
}

/**
 * SWF's account quota as a token bucket: `size` calls of burst, `refillPerSecond` sustained.
 * Pure data over an injected clock reading, no timers.
 */
class TokenBucket {
  private tokens: number;
  private lastRefillMs: number;

  constructor(
    private readonly size: number,
    private readonly refillPerSecond: number,
    nowMs: number,
  ) {
    this.tokens = size;
    this.lastRefillMs = nowMs;
  }

  /** Takes one token if there is one; false means "throttle this call". */
  tryTake(nowMs: number): boolean {
    this.refill(nowMs);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  available(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens;
  }

  private refill(nowMs: number): void {
    if (this.size === Number.POSITIVE_INFINITY) return;
    const elapsedMs = Math.max(0, nowMs - this.lastRefillMs);
    this.tokens = Math.min(this.size, this.tokens + (elapsedMs / 1000) * this.refillPerSecond);
    this.lastRefillMs = nowMs;
  }
}

/** The parsed body; a field is `undefined` when absent, `problem` describes a malformed body. */
interface ParsedBody {
  taskToken: string | undefined;
  reason: string | undefined;
  details: string | undefined;
  problem: string | undefined;
}

function parseBody(raw: string): ParsedBody {
  const parsed: ParsedBody = {
    taskToken: undefined,
    reason: undefined,
    details: undefined,
    problem: undefined,
  };
  let json: unknown;
  try {
    // The SDK sends "{}" for an empty input; an empty body is treated the same way.
    json = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch {
    parsed.problem = 'Request body is not valid JSON';
    return parsed;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    parsed.problem = 'Request body must be a JSON object';
    return parsed;
  }
  const body = json as Record<string, unknown>;
  for (const field of ['taskToken', 'reason', 'details'] as const) {
    const value = body[field];
    if (value === undefined) continue;
    if (typeof value === 'string') parsed[field] = value;
    else parsed.problem ??= `Value at '${field}' must be a string`;
  }
  return parsed;
}

/** SWF's ValidationException message for the first broken constraint, or undefined if valid. */
function validationProblem(body: ParsedBody): string | undefined {
  if (body.problem !== undefined) return body.problem;
  const { taskToken, reason, details } = body;
  if (taskToken === undefined || taskToken.length === 0) {
    return "1 validation error detected: Value at 'taskToken' failed to satisfy constraint: Member must not be null or empty";
  }
  if (taskToken.length > SWF_LIMITS.taskTokenMaxChars) {
    return `1 validation error detected: Value at 'taskToken' failed to satisfy constraint: Member must have length less than or equal to ${SWF_LIMITS.taskTokenMaxChars}`;
  }
  if (reason !== undefined && reason.length > SWF_LIMITS.reasonMaxChars) {
    return `1 validation error detected: Value at 'reason' failed to satisfy constraint: Member must have length less than or equal to ${SWF_LIMITS.reasonMaxChars}`;
  }
  if (details !== undefined && details.length > SWF_LIMITS.detailsMaxChars) {
    return `1 validation error detected: Value at 'details' failed to satisfy constraint: Member must have length less than or equal to ${SWF_LIMITS.detailsMaxChars}`;
  }
  return undefined;
}

/** A decided answer: what to record, and how to reply. */
type Decision =
  | { kind: 'accepted' }
  | { kind: 'error'; name: FakeSwfErrorName; message: string }
  | { kind: 'reset' }
  | { kind: 'hang' };

export class FakeSwf {
  /** Chosen by the OS at start (we bind port 0) and kept across `refuseConnections()`. */
  readonly port: number;
  /** `http://127.0.0.1:PORT`, for `new SWFClient({ endpoint: fake.url })`. */
  readonly url: string;

  private behaviour: FakeSwfBehaviour;
  private readonly now: () => number;
  private bucket: TokenBucket;
  private readonly records: FakeSwfCall[] = [];
  /** Tokens SWF already accepted a failure for: a second failure is UnknownResourceFault. */
  private readonly failedTokens = new Set<string>();
  /** Every open socket, so close / refuse / reset never wait on a keep-alive or hung request. */
  private readonly sockets = new Set<Socket>();
  /** Replies held back by latency, cancelled on close. */
  private readonly pendingReplies = new Set<NodeJS.Timeout>();
  private listening = true;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    port: number,
    behaviour: FakeSwfBehaviour,
    now: () => number,
  ) {
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.behaviour = behaviour;
    this.now = now;
    this.bucket = new TokenBucket(behaviour.bucketSize, behaviour.refillPerSecond, now());
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.handle(req, res));
  }

  /** Starts a fake on 127.0.0.1 with an OS-chosen port. */
  static async start(options: FakeSwfOptions = {}): Promise<FakeSwf> {
    const { now = () => performance.now(), ...partial } = options;
    const behaviour: FakeSwfBehaviour = { ...DEFAULT_BEHAVIOUR, ...stripUndefined(partial) };
    validateBehaviour(behaviour);
    const server = createServer();
    await listen(server, 0);
    const { port } = server.address() as AddressInfo;
    return new FakeSwf(server, port, behaviour, now);
  }

  /**
   * Changes behaviour for the calls that arrive from now on. Setting `bucketSize` or
   * `refillPerSecond` starts a new, full bucket with the resulting settings.
   */
  configure(partial: Partial<FakeSwfBehaviour>): void {
    const next: FakeSwfBehaviour = { ...this.behaviour, ...stripUndefined(partial) };
    validateBehaviour(next);
    this.behaviour = next;
    if (partial.bucketSize !== undefined || partial.refillPerSecond !== undefined) {
      this.bucket = new TokenBucket(next.bucketSize, next.refillPerSecond, this.now());
    }
  }

  /** Quota tokens left right now (`Infinity` when unlimited). */
  bucketTokens(): number {
    return this.bucket.available(this.now());
  }

  /** All calls, in arrival order. */
  get calls(): readonly FakeSwfCall[] {
    return this.records;
  }

  /** The calls answered HTTP 200. */
  accepted(): FakeSwfCall[] {
    return this.records.filter((c) => c.answer === 'accepted');
  }

  /** How many times each token was accepted; more than 1 means the fake was told to allow it. */
  acceptedCountByToken(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const call of this.accepted()) {
      if (call.taskToken === undefined) continue;
      counts.set(call.taskToken, (counts.get(call.taskToken) ?? 0) + 1);
    }
    return counts;
  }

  /**
   * The most accepted calls in any sliding window `[t, t + windowMs)` of arrival times: for rate
   * checks such as "never more than 200 per 1000 ms".
   */
  maxAcceptedInAnyWindow(windowMs: number): number {
    return busiestWindow(
      this.accepted().map((c) => c.atMs),
      windowMs,
    );
  }

  /**
   * The most calls of any answer (throttled, failed and reset ones too) in any sliding window
   * `[t, t + windowMs)`: the rate a client sent at, as SWF saw it.
   */
  maxCallsInAnyWindow(windowMs: number): number {
    return busiestWindow(
      this.records.map((c) => c.atMs),
      windowMs,
    );
  }

  /** Forgets the recorded calls and the already-failed tokens; behaviour and bucket are kept. */
  reset(): void {
    this.records.length = 0;
    this.failedTokens.clear();
  }

  /**
   * `true`: stop listening and drop every open connection, so new connections get ECONNREFUSED
   * (a dead endpoint). `false`: listen again on the same port. Resolves once the change is done.
   */
  async refuseConnections(refuse: boolean): Promise<void> {
    if (this.closing) throw new Error('FakeSwf: already closed');
    if (refuse === !this.listening) return;
    if (refuse) {
      this.listening = false;
      await this.stopListening();
    } else {
      await listen(this.server, this.port);
      this.listening = true;
    }
  }

  /** Stops the server and destroys every socket, hung ones included. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const timer of this.pendingReplies) clearTimeout(timer);
      this.pendingReplies.clear();
      if (this.listening) await this.stopListening();
      this.listening = false;
    })();
    return this.closing;
  }

  private async stopListening(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
    // A client in this process (the usual test setup) learns that its pooled keep-alive sockets
    // are dead only when it reads our FIN. Give it a few event-loop turns to do so, otherwise
    // its next call reuses a dead socket and sees ECONNRESET instead of ECONNREFUSED.
    for (let turn = 0; turn < 3; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => this.answer(req, res, Buffer.concat(chunks).toString('utf8')));
    // A client that goes away mid-body: nothing to answer.
    req.on('error', () => undefined);
  }

  private answer(req: IncomingMessage, res: ServerResponse, rawBody: string): void {
    const atMs = this.now();
    const target = headerValue(req.headers['x-amz-target']);
    const body = parseBody(rawBody);
    const b = this.behaviour;
    const decision = this.decide(target, body);
    const delayMs =
      decision.kind === 'accepted' || decision.kind === 'error'
        ? b.latencyMs + (this.chance(b.spikeRate) ? b.spikeLatencyMs : 0)
        : 0;

    const record: FakeSwfCall = {
      atMs,
      target,
      taskToken: body.taskToken,
      reason: body.reason,
      details: body.details,
      answer: decision.kind === 'error' ? decision.name : decision.kind,
      delayMs,
    };
    this.records.push(record);

    switch (decision.kind) {
      case 'reset':
        // Destroying the socket before any byte of a response is what the client sees as
        // ECONNRESET ("socket hang up").
        req.socket.destroy();
        return;
      case 'hang':
        // Keep the request open; close() or the client's abort ends it.
        return;
      case 'accepted':
      case 'error':
        this.replyAfter(delayMs, res, decision, record);
        return;
    }
  }

  private decide(target: string | undefined, body: ParsedBody): Decision {
    const b = this.behaviour;
    if (target !== RESPOND_ACTIVITY_TASK_FAILED_TARGET) {
      return {
        kind: 'error',
        name: 'UnknownOperationException',
        message: `Unknown operation ${target ?? '(no X-Amz-Target)'}`,
      };
    }
    if (this.chance(b.resetRate)) return { kind: 'reset' };
    if (b.hang) return { kind: 'hang' };
    if (this.chance(b.throttleRate)) {
      return { kind: 'error', name: 'ThrottlingException', message: 'Rate exceeded' };
    }
    if (!this.bucket.tryTake(this.now())) {
      return { kind: 'error', name: 'ThrottlingException', message: 'Rate exceeded' };
    }
    if (this.chance(b.internalErrorRate)) {
      return { kind: 'error', name: 'InternalFailure', message: 'An internal error occurred.' };
    }
    if (this.chance(b.unavailableRate)) {
      return { kind: 'error', name: 'ServiceUnavailable', message: 'Service is unavailable.' };
    }
    const problem = validationProblem(body);
    if (problem !== undefined) return { kind: 'error', name: 'ValidationException', message: problem };
    // validationProblem guarantees a non-empty token from here on.
    const token = body.taskToken as string;
    if (typeof b.forbidden === 'function' ? b.forbidden(token) : b.forbidden) {
      return {
        kind: 'error',
        name: 'OperationNotPermittedFault',
        message: 'User is not authorized to perform: swf:RespondActivityTaskFailed',
      };
    }
    const unknown = typeof b.unknownTokens === 'function' ? b.unknownTokens(token) : b.unknownTokens.has(token);
    if (unknown || this.failedTokens.has(token)) {
      return { kind: 'error', name: 'UnknownResourceFault', message: 'Unknown activity task' };
    }
    this.failedTokens.add(token);
    return { kind: 'accepted' };
  }

  /** Draws from `random` only when the outcome is uncertain, so scripted sequences stay short. */
  private chance(rate: number): boolean {
    if (rate <= 0) return false;
    if (rate >= 1) return true;
    return this.behaviour.random() < rate;
  }

  private replyAfter(
    delayMs: number,
    res: ServerResponse,
    decision: Decision & { kind: 'accepted' | 'error' },
    record: FakeSwfCall,
  ): void {
    const send = (): void => {
      if (res.writableEnded) return;
      record.replied = clientStillListening(res);
      if (!record.replied) return;
      const headers = {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-RequestId': randomUUID(),
      };
      if (decision.kind === 'accepted') {
        res.writeHead(200, headers).end('{}');
        return;
      }
      // Real SWF puts the fully qualified shape id in __type; the SDK keeps only what follows '#'.
      const payload = JSON.stringify({
        __type: `com.amazonaws.swf.base.model#${decision.name}`,
        message: decision.message,
      });
      res.writeHead(FAKE_SWF_ERROR_STATUS[decision.name], headers).end(payload);
    };
    if (delayMs <= 0) {
      send();
      return;
    }
    const timer = setTimeout(() => {
      this.pendingReplies.delete(timer);
      send();
    }, delayMs);
    this.pendingReplies.add(timer);
  }
}

/**
 * Whether the client can still read an answer: it has neither closed nor reset the connection.
 * A keep-alive client never half-closes, so a socket whose read side ended (the client's FIN)
 * belongs to a client that gave up, even if Node has not yet closed it: such a call can reach
 * the fake after the retry that replaced it, when it came on a connection still waiting to be
 * accepted.
 */
function clientStillListening(res: ServerResponse): boolean {
  const socket = res.socket;
  return !res.destroyed && socket !== null && socket.writable && !socket.readableEnded;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Drops keys explicitly set to undefined so they do not overwrite defaults. */
function stripUndefined<T extends object>(partial: T): Partial<T> {
  return Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve();
    });
  });
}
