import { STATUS_CODES } from 'node:http';
import type * as ClientSwf from '@aws-sdk/client-swf';
import type * as SmithyEndpoints from '@smithy/core/endpoints';
import type { FailureReport } from '../delivery/failure-report.js';
import { classifySwfError } from './classify-swf-error.js';
import { Http1ConnectionPool, type Http1Exchange } from './http1-connection-pool.js';
import { SigV4JsonSigner } from './sigv4-json-request.js';
import type { SendResult, SwfPort } from './swf-port.js';

export interface AwsSwfPortOptions {
  /** Cancels a call that has not answered in this long (connect included). */
  readonly requestTimeoutMs: number;
  /** Keep-alive sockets to SWF; matches the dispatcher's in-flight bound. */
  readonly maxSockets: number;
  /**
   * Told what the first call's resolution of region, endpoint and credentials found (the SDK is
   * loaded then, not at start-up), and again when it first works after failing. Not called for
   * warmUp(), whose caller has the report.
   */
  readonly onResolution?: (report: WarmUpReport) => void;
}

const TARGET = 'SimpleWorkflowService.RespondActivityTaskFailed';
/** The SDK ignores a server clock sample when the answer took longer than this (15 min). */
const MAX_CLOCK_SAMPLE_AGE_MS = 900_000;

/** What warmUp() found, for the start-up log. */
export interface WarmUpReport {
  /** Where calls go, e.g. https://swf.eu-west-1.amazonaws.com/; undefined if not resolved. */
  readonly endpoint: string | undefined;
  readonly signingRegion: string | undefined;
  /** What failed (region, endpoint or credentials). */
  readonly errors: readonly Error[];
}

/** Everything about where and how to send that is resolved once, by the SDK. */
interface Destination {
  readonly url: string;
  readonly signingRegion: string;
  readonly secure: boolean;
  /** For the socket: an IPv6 address without its brackets. */
  readonly hostname: string;
  readonly port: number | undefined;
  readonly path: string;
  readonly signer: SigV4JsonSigner;
  readonly userAgent: string;
  /** Keep-alive sockets to `url`'s origin. */
  readonly pool: Http1ConnectionPool;
  /** Sample the server's Date header to correct the signing time, as the SDK does. */
  readonly clockSkewCorrection: boolean;
}

/** What is taken from the SDK, loaded on first use, with the one client made from it. */
interface Sdk {
  readonly client: ClientSwf.SWFClient;
  readonly RespondActivityTaskFailedCommand: typeof ClientSwf.RespondActivityTaskFailedCommand;
  readonly getEndpointFromInstructions: typeof SmithyEndpoints.getEndpointFromInstructions;
}

async function loadSdk(): Promise<Sdk> {
  const [{ SWFClient, RespondActivityTaskFailedCommand }, { getEndpointFromInstructions }] = await Promise.all([
    import('@aws-sdk/client-swf'),
    import('@smithy/core/endpoints'),
  ]);
  // Never sends: only its resolved config is used.
  return { client: new SWFClient({}), RespondActivityTaskFailedCommand, getEndpointFromInstructions };
}

/**
 * The only file that knows the AWS SDK. RespondActivityTaskFailed is sent as ONE plain HTTP/1.1
 * POST (JSON 1.0, SigV4 signed by sigv4-json-request.ts); the SDK's command stack (middleware,
 * serde, retry, its signer) costs several times the CPU of the call itself (bench/RESULTS.md, A).
 *
 * The POST goes through http1-connection-pool.ts (one pool for the resolved endpoint), not
 * node:http: the head is built here from the signed headers and written with the body in one
 * socket write, and the answer is parsed by http1-response-parser.ts. Measured on the dev
 * machine, node:http's request()/Agent cost about 3x the CPU per request of writing the bytes
 * to a kept socket and parsing the answer by hand (575-725 µs vs 190-200 µs per request at
 * 200 req/s in groups of 10, 400-460 vs 220-240 µs at 1000/s), and its short-lived objects
 * (ClientRequest, IncomingMessage, their streams) showed as scavenge pauses in the 1000/s tails.
 * What the port does is unchanged: same headers on the wire (less node:http's `Connection:
 * keep-alive`, HTTP/1.1's default), same outcomes (timeout, abort, resets, a 2xx cut off
 * mid-body is delivered), header values refused as node:http refused them (ERR_INVALID_CHAR,
 * never sent). The body is encoded once, and the same Buffer is hashed and written.
 *
 * Everything else is what the SDK itself would use, taken from the resolved config of an
 * `SWFClient` that never sends anything:
 *
 * - Region: `client.config.region()` (AWS_REGION, then the profile's region; a `fips-` region
 *   is mapped as the SDK maps it).
 * - Endpoint: `getEndpointFromInstructions` from `@smithy/core/endpoints`, the function the
 *   SDK's endpoint middleware runs for every command, called with this command's own parameter
 *   instructions (Region, UseFIPS, UseDualStack, Endpoint) and a copy of the client's config.
 *   It reads `config.serviceConfiguredEndpoint()`, which loads AWS_ENDPOINT_URL_SWF, then
 *   AWS_ENDPOINT_URL, then the profile's `services` section / `endpoint_url` (all skipped when
 *   AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true), passes it as the `Endpoint` parameter of
 *   SWF's endpoint rules (`config.endpointProvider`), which otherwise build
 *   `https://swf[-fips].REGION.amazonaws.com` or the dual-stack host from
 *   AWS_USE_FIPS_ENDPOINT / AWS_USE_DUALSTACK_ENDPOINT. Resolved once, on the first call or in
 *   warmUp(). As in the SDK, the path gets a trailing `/`, and the signing region is the
 *   config's region unless the endpoint names another (SWF's rules never do).
 * - Credentials: `client.config.credentials()` on every call: the default chain (env, SSO,
 *   profile, process, IRSA web identity, ECS / EKS Pod Identity, IMDS), memoized by the SDK's
 *   `memoizeChain`: loaded once, refreshed in the background from 5 minutes before expiration,
 *   and loaded again (callers wait) once expired or after a failure. A cached call costs 0.1 µs.
 * - Clock skew: the signing time is corrected by the server's Date header like the SDK's
 *   AwsSdkSigV4Signer does (every answer is a sample), unless AWS_DISABLE_CLOCK_SKEW_CORRECTION.
 *
 * Not carried over from the SDK, on purpose: its retries (the dispatcher owns retries), and its
 * diagnostic headers (amz-sdk-invocation-id, amz-sdk-request, x-amz-user-agent).
 */
export class AwsSwfPort implements SwfPort {
  /** The SDK, loaded by the first call or warmUp(); `client` is its client once loaded. */
  private loadingSdk: Promise<Sdk> | undefined;
  private client: ClientSwf.SWFClient | undefined;
  private destination: Destination | undefined;
  private resolving: Promise<Destination> | undefined;
  /** Server time minus local time, in ms (the SDK's `systemClockOffset`). */
  private clockOffsetMs = 0;
  /** What the calls' resolution of region, endpoint and credentials found so far. */
  private resolution: 'unknown' | 'failed' | 'resolved' = 'unknown';
  /** Set by destroy(): a destination resolved after it gets its pool destroyed at once. */
  private destroyed = false;

  constructor(private readonly options: AwsSwfPortOptions) {}

  /**
   * The SDK is loaded on first use, not at start-up: a sidecar whose worker never fails a task
   * never holds it (about 2 MB of anonymous memory, bench 9) and never fetches credentials
   * (one STS call per pod with IRSA).
   */
  private sdk(): Promise<Sdk> {
    this.loadingSdk ??= loadSdk().then((sdk) => {
      this.client = sdk.client;
      this.clockOffsetMs = sdk.client.config.systemClockOffset;
      return sdk;
    });
    return this.loadingSdk;
  }

  /**
   * Resolves region, endpoint and credentials ahead of the first call, so that it pays no
   * start-up cost and a misconfiguration shows at start. Never throws: reports what failed, for
   * the log (missing credentials may be normal at start, e.g. before a token file is mounted);
   * calls try again.
   */
  async warmUp(): Promise<WarmUpReport> {
    const errors: Error[] = [];
    const destination = await this.resolveDestination().catch((error: unknown) => {
      errors.push(asError(error));
      return undefined;
    });
    await this.sdk()
      .then(({ client }) => client.config.credentials())
      .catch((error: unknown) => errors.push(asError(error)));
    this.resolution = errors.length === 0 ? 'resolved' : 'failed';
    return { endpoint: destination?.url, signingRegion: destination?.signingRegion, errors };
  }

  async send(report: FailureReport, signal: AbortSignal): Promise<SendResult> {
    const deadlineMs = Date.now() + this.options.requestTimeoutMs;
    let destination: Destination;
    let headers: Record<string, string>;
    // Absent fields are left out by JSON.stringify (undefined), "" is kept. Encoded once: the
    // same bytes are hashed for the signature and written.
    const body = Buffer.from(
      JSON.stringify({ taskToken: report.taskToken, reason: report.reason, details: report.details }),
      'utf8',
    );
    try {
      destination = this.destination ?? (await this.resolveDestination());
      const credentials = await (this.client ?? (await this.sdk()).client).config.credentials();
      headers = destination.signer.sign(credentials, TARGET, body, Date.now() + this.clockOffsetMs);
    } catch (error) {
      this.noteResolution(asError(error));
      // Nothing was sent: SWF cannot have recorded anything.
      return neverSent(classifySwfError(error));
    }
    if (this.resolution !== 'resolved') this.noteResolution(undefined);

    // Credentials are loaded by the SDK's providers, with their own timeouts; what they took
    // counts against this call's budget.
    const remainingMs = deadlineMs - Date.now();
    if (signal.aborted) return neverSent(classifySwfError(abortError()));
    if (remainingMs <= 0) {
      return neverSent({
        kind: 'retryable',
        reason: 'transient',
        outcomeUnknown: false,
        message: `credentials not loaded within ${this.options.requestTimeoutMs} ms (not sent)`,
      });
    }
    let head: string;
    try {
      head = requestHead(destination, headers, body.length);
    } catch (error) {
      // An invalid header value (say, a line break in credentials): nothing was sent.
      return neverSent(classifySwfError(error));
    }
    const sentAtMs = Date.now();
    const exchange: Http1Exchange = await destination.pool.request(head, body, remainingMs, signal);

    if (exchange.kind === 'timeout') return this.timeoutResult();
    if (exchange.kind === 'error') return classifySwfError(exchange.error);
    const { status, headers: responseHeaders } = exchange;
    if (destination.clockSkewCorrection) this.sampleServerClock(responseHeaders, sentAtMs);
    const requestId = requestIdOf(responseHeaders);
    if (status >= 200 && status < 300) return { kind: 'delivered', requestId };
    return classifySwfError(errorShape(status, requestId, responseHeaders, exchange.body.toString('utf8')));
  }

  destroy(): void {
    this.destroyed = true;
    this.destination?.pool.destroy();
    this.client?.destroy();
  }

  private timeoutResult(): SendResult {
    return {
      kind: 'retryable',
      reason: 'transient',
      outcomeUnknown: true,
      message: `no answer from SWF within ${this.options.requestTimeoutMs} ms (request cancelled)`,
    };
  }

  /** Tells onResolution what the calls found: the first time, and when it first works after failing. */
  private noteResolution(error: Error | undefined): void {
    const failed = error !== undefined;
    if (this.resolution === 'unknown' || (this.resolution === 'failed' && !failed)) {
      this.options.onResolution?.({
        endpoint: this.destination?.url,
        signingRegion: this.destination?.signingRegion,
        errors: error === undefined ? [] : [error],
      });
    }
    this.resolution = failed ? 'failed' : 'resolved';
  }

  private resolveDestination(): Promise<Destination> {
    this.resolving ??= this.loadDestination().then(
      (destination) => {
        if (this.destroyed) destination.pool.destroy();
        return (this.destination = destination);
      },
      (error: unknown) => {
        this.resolving = undefined; // try again on the next call
        throw error;
      },
    );
    return this.resolving;
  }

  private async loadDestination(): Promise<Destination> {
    const { client, RespondActivityTaskFailedCommand, getEndpointFromInstructions } = await this.sdk();
    const config = client.config;
    const region = await config.region();
    // The command's own instructions (the SDK types them loosely): Region, UseFIPS, UseDualStack
    // and Endpoint, all built-in parameters read from the config.
    const instructions = RespondActivityTaskFailedCommand as SmithyEndpoints.EndpointParameterInstructionsSupplier;
    // A copy of the config, as the endpoint middleware passes one: the function records a
    // configured endpoint (AWS_ENDPOINT_URL_SWF...) in the config it is given.
    const endpoint = await getEndpointFromInstructions({}, instructions, { ...config });
    const url = endpoint.url;
    const authScheme = (
      endpoint.properties?.['authSchemes'] as { signingRegion?: string; signingName?: string }[] | undefined
    )?.[0];
    const path = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
    const appId = await config.userAgentAppId();
    const signingRegion = authScheme?.signingRegion ?? region;
    const secure = url.protocol === 'https:';
    const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
    return {
      url: url.href,
      signingRegion,
      secure,
      hostname,
      port,
      path,
      signer: new SigV4JsonSigner({
        region: signingRegion,
        service: authScheme?.signingName ?? 'swf',
        host: url.host,
        path,
      }),
      userAgent: `swf-sidecar lang/js md/nodejs#${process.versions.node}${appId ? ` app/${appId}` : ''}`,
      clockSkewCorrection: !(await config.disableClockSkewCorrection()),
      pool: new Http1ConnectionPool({ hostname, port, secure, maxSockets: this.options.maxSockets }),
    };
  }

  /** The SDK's getUpdatedSystemClockOffset: every answer with a Date header (and no Age) is a sample. */
  private sampleServerClock(headers: Readonly<Record<string, string>>, sentAtMs: number): void {
    const date = headers['date'];
    if (date === undefined || headers['age'] !== undefined) return;
    const serverMs = Date.parse(date);
    const nowMs = Date.now();
    if (Number.isNaN(serverMs) || nowMs - sentAtMs > MAX_CLOCK_SAMPLE_AGE_MS) return;
    this.clockOffsetMs = serverMs - nowMs;
  }
}

function requestIdOf(headers: Readonly<Record<string, string>>): string | undefined {
  return headers['x-amzn-requestid'] ?? headers['x-amzn-request-id'] ?? headers['x-amz-request-id'];
}

/** What node:http refused in a header value (its checkInvalidHeaderChar): CTLs but HTAB, DEL, > U+00FF. */
const INVALID_HEADER_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * The request head as node:http wrote it (headers in the same order, no `connection`: keep-alive
 * is HTTP/1.1's default). A value with a character node:http refused throws the TypeError it
 * threw (ERR_INVALID_CHAR), before any byte is written: credentials come from the environment
 * and profile files, and a CR LF in one would otherwise add header lines.
 */
function requestHead(destination: Destination, signed: Readonly<Record<string, string>>, contentLength: number) {
  let head = `POST ${destination.path} HTTP/1.1\r\n`;
  for (const name in signed) head += headerLine(name, signed[name]!);
  return `${head}content-length: ${contentLength}\r\n${headerLine('user-agent', destination.userAgent)}\r\n`;
}

function headerLine(name: string, value: string): string {
  if (INVALID_HEADER_CHAR.test(value)) {
    throw Object.assign(new TypeError(`Invalid character in header content ["${name}"]`), { code: 'ERR_INVALID_CHAR' });
  }
  return `${name}: ${value}\r\n`;
}

/**
 * An error answer in the shape classifySwfError reads, named as the SDK's JSON 1.0 protocol
 * names it: `__type`, else a `code` field, else the x-amzn-errortype header, keeping what
 * follows `#` (and what precedes `:` or `,`). A body that is not JSON (moto's HTML 500) or
 * names nothing is named after the HTTP status, e.g. InternalServerError.
 */
function errorShape(
  status: number,
  requestId: string | undefined,
  headers: Readonly<Record<string, string>>,
  body: string,
) {
  let data: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null) data = parsed as Record<string, unknown>;
  } catch {
    // Not JSON: named from the status below.
  }
  const codeKey = Object.keys(data).find((key) => key.toLowerCase() === 'code');
  const rawName = data['__type'] ?? (codeKey === undefined ? undefined : data[codeKey]) ?? headers['x-amzn-errortype'];
  const name =
    typeof rawName === 'string' || typeof rawName === 'number'
      ? sanitizeErrorCode(String(rawName))
      : (STATUS_CODES[status] ?? `Http${status}`).replace(/[^A-Za-z0-9]/g, '');
  const message = data['message'] ?? data['Message'];
  return {
    name,
    message: typeof message === 'string' ? message : body.slice(0, 200),
    $fault: status < 500 ? 'client' : 'server',
    $metadata: { httpStatusCode: status, requestId },
  };
}

/** @smithy/core's sanitizeErrorCode: "ns#Name:extra,more" -> "Name". */
function sanitizeErrorCode(raw: string): string {
  let value = raw.split(',')[0] ?? raw;
  value = value.split(':')[0] ?? value;
  return value.includes('#') ? (value.split('#')[1] ?? value) : value;
}

function abortError(): Error {
  return Object.assign(new Error('Request aborted'), { name: 'AbortError' });
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function neverSent(result: Exclude<SendResult, { kind: 'delivered' }>): SendResult {
  return result.kind === 'retryable' ? { ...result, outcomeUnknown: false } : result;
}
