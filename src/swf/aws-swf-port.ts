import {
  Agent as HttpAgent,
  type ClientRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request as httpRequest,
  STATUS_CODES,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type * as ClientSwf from '@aws-sdk/client-swf';
import type * as SmithyEndpoints from '@smithy/core/endpoints';
import type { FailureReport } from '../delivery/failure-report.js';
import { classifySwfError } from './classify-swf-error.js';
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

/** How one HTTP exchange ended, before classification. */
type Exchange =
  | {
      readonly kind: 'answer';
      readonly status: number;
      readonly headers: IncomingMessage['headers'];
      readonly body: string;
    }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'error'; readonly error: unknown };

/**
 * The only file that knows the AWS SDK. RespondActivityTaskFailed is sent as ONE plain HTTP POST
 * (JSON 1.0, SigV4 signed by sigv4-json-request.ts) on keep-alive agents; the SDK's command
 * stack (middleware, serde, retry, its signer) costs several times the CPU of the call itself
 * (bench/RESULTS.md, A). Everything else is what the SDK itself would use, taken from the
 * resolved config of an `SWFClient` that never sends anything:
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
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;
  private destination: Destination | undefined;
  private resolving: Promise<Destination> | undefined;
  /** Server time minus local time, in ms (the SDK's `systemClockOffset`). */
  private clockOffsetMs = 0;
  /** What the calls' resolution of region, endpoint and credentials found so far. */
  private resolution: 'unknown' | 'failed' | 'resolved' = 'unknown';

  constructor(private readonly options: AwsSwfPortOptions) {
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets };
    this.httpAgent = new HttpAgent(agentOptions);
    this.httpsAgent = new HttpsAgent(agentOptions);
  }

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
    let headers: OutgoingHttpHeaders;
    // Absent fields are left out by JSON.stringify (undefined), "" is kept.
    const body = JSON.stringify({ taskToken: report.taskToken, reason: report.reason, details: report.details });
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
    headers['content-length'] = Buffer.byteLength(body);
    headers['user-agent'] = destination.userAgent;

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
    const sentAtMs = Date.now();
    let exchange: Exchange;
    try {
      exchange = await this.post(destination, headers, body, remainingMs, signal);
    } catch (error) {
      // http.request throws synchronously on an invalid header (say, a control character in
      // credentials): nothing was sent.
      return neverSent(classifySwfError(error));
    }

    if (exchange.kind === 'timeout') return this.timeoutResult();
    if (exchange.kind === 'error') return classifySwfError(exchange.error);
    const { status, headers: responseHeaders } = exchange;
    if (destination.clockSkewCorrection) this.sampleServerClock(responseHeaders, sentAtMs);
    const requestId = requestIdOf(responseHeaders);
    if (status >= 200 && status < 300) return { kind: 'delivered', requestId };
    return classifySwfError(errorShape(status, requestId, responseHeaders, exchange.body));
  }

  destroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
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

  /** One POST; one timer. The timeout and the caller's signal destroy the request. */
  private post(
    destination: Destination,
    headers: OutgoingHttpHeaders,
    body: string,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<Exchange> {
    return new Promise<Exchange>((resolve) => {
      let settled = false;
      let status = 0;
      const settle = (exchange: Exchange): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(exchange);
      };
      const request: ClientRequest = (destination.secure ? httpsRequest : httpRequest)(
        {
          method: 'POST',
          hostname: destination.hostname,
          port: destination.port,
          path: destination.path,
          headers,
          agent: destination.secure ? this.httpsAgent : this.httpAgent,
        },
        (response) => {
          status = response.statusCode ?? 0;
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            settle({ kind: 'answer', status, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }),
          );
          // Cut off mid-body ('error', or 'close' before 'end'): a 2xx status already says SWF
          // applied the call; anything else counts as a reset.
          const cutOff = (error: unknown): void =>
            settle(
              status >= 200 && status < 300
                ? { kind: 'answer', status, headers: response.headers, body: '' }
                : { kind: 'error', error },
            );
          response.on('error', cutOff);
          response.on('close', () =>
            cutOff(Object.assign(new Error('connection closed mid-answer'), { code: 'ECONNRESET' })),
          );
        },
      );
      const timer = setTimeout(() => {
        settle({ kind: 'timeout' });
        request.destroy();
      }, timeoutMs);
      const onAbort = (): void => {
        settle({ kind: 'error', error: abortError() });
        request.destroy();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      request.on('error', (error) => settle({ kind: 'error', error }));
      request.end(body);
    });
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
      (destination) => (this.destination = destination),
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
    return {
      url: url.href,
      signingRegion,
      secure: url.protocol === 'https:',
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port === '' ? undefined : Number(url.port),
      path,
      signer: new SigV4JsonSigner({
        region: signingRegion,
        service: authScheme?.signingName ?? 'swf',
        host: url.host,
        path,
      }),
      userAgent: `swf-sidecar lang/js md/nodejs#${process.versions.node}${appId ? ` app/${appId}` : ''}`,
      clockSkewCorrection: !(await config.disableClockSkewCorrection()),
    };
  }

  /** The SDK's getUpdatedSystemClockOffset: every answer with a Date header (and no Age) is a sample. */
  private sampleServerClock(headers: IncomingMessage['headers'], sentAtMs: number): void {
    const date = headers.date;
    if (date === undefined || headers.age !== undefined) return;
    const serverMs = Date.parse(date);
    const nowMs = Date.now();
    if (Number.isNaN(serverMs) || nowMs - sentAtMs > MAX_CLOCK_SAMPLE_AGE_MS) return;
    this.clockOffsetMs = serverMs - nowMs;
  }
}

function requestIdOf(headers: IncomingMessage['headers']): string | undefined {
  const id = headers['x-amzn-requestid'] ?? headers['x-amzn-request-id'] ?? headers['x-amz-request-id'];
  return typeof id === 'string' ? id : undefined;
}

/**
 * An error answer in the shape classifySwfError reads, named as the SDK's JSON 1.0 protocol
 * names it: `__type`, else a `code` field, else the x-amzn-errortype header, keeping what
 * follows `#` (and what precedes `:` or `,`). A body that is not JSON (moto's HTML 500) or
 * names nothing is named after the HTTP status, e.g. InternalServerError.
 */
function errorShape(status: number, requestId: string | undefined, headers: IncomingMessage['headers'], body: string) {
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
