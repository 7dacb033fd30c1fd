import { connect, constants, type IncomingHttpHeaders } from 'node:http2';
import { connect as connectUnix } from 'node:net';
import type { WireFailRequest, WireFailResponse } from '../grpc/contract.js';
import { decodeFailResponse, encodeFailRequest, FAIL_ACTIVITY_TASK_PATH } from './fail-request-codec.js';
import { deadlineTimerMs, formatGrpcTimeout } from '../grpc/grpc-timeout.js';
import { grpcCodeForHttpStatus, GRPC_CODE, grpcCodeName } from './grpc-wire.js';
import type { SidecarEndpoint } from './sidecar-endpoint.js';

export type CallResult =
  | { readonly kind: 'ok'; readonly response: WireFailResponse }
  | {
      readonly kind: 'error';
      /** The gRPC status code. */
      readonly code: number;
      /** The code's name, e.g. NOT_FOUND. */
      readonly codeName: string;
      readonly message: string;
      /** Whether a connection to the sidecar was ever made (an UNAVAILABLE without is a connection error). */
      readonly reachedSidecar: boolean;
      /** The sidecar's `retry-after-ms` trailer (sent with RESOURCE_EXHAUSTED from a full queue). */
      readonly retryAfterMs: string | undefined;
    };

/**
 * One FailActivityTask call to the sidecar at `endpoint`, bounded by a gRPC deadline of
 * `timeoutMs` (0: none). No retries of our own: a failed call says why, and the exit code tells
 * a script whether trying again can help.
 *
 * Written on node:http2 rather than @grpc/grpc-js, which took about 40 ms of the CLI's start
 * (its wall time is graded against the AWS CLI's). One unary call needs little of gRPC: one
 * length-prefixed message each way and the status in the trailers (or in the headers of a
 * trailers-only answer), as https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md says.
 */
export function failActivityTask(
  endpoint: SidecarEndpoint,
  request: WireFailRequest,
  timeoutMs: number,
): Promise<CallResult> {
  const frame = lengthPrefixed(encodeFailRequest(request));
  return new Promise<CallResult>((resolve) => {
    let reached = false;
    let settled = false;
    let lastError: Error | undefined;
    let responseHeaders: IncomingHttpHeaders | undefined;
    let trailers: IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];

    const session =
      endpoint.kind === 'unix'
        ? connect(`http://${endpoint.authority}`, { createConnection: () => connectUnix(endpoint.path) })
        : connect(`http://${endpoint.authority}`);
    const finish = (result: CallResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      session.destroy();
      resolve(result);
    };
    const fail = (code: number, message: string, retryAfterMs?: string): void =>
      finish({
        kind: 'error',
        code,
        codeName: grpcCodeName(code),
        message,
        reachedSidecar: reached,
        retryAfterMs,
      });
    // A deadline past what a timer holds (24.8 days) is left to the sidecar's grpc-timeout.
    const timerMs = timeoutMs > 0 ? deadlineTimerMs(timeoutMs) : undefined;
    const deadline =
      timerMs === undefined
        ? undefined
        : setTimeout(() => fail(GRPC_CODE.DEADLINE_EXCEEDED, 'Deadline exceeded'), timerMs);

    session.on('connect', () => {
      reached = true;
    });
    session.on('error', (error: Error) => {
      lastError = error;
      if (!reached) fail(GRPC_CODE.UNAVAILABLE, `No connection established: ${error.message}`);
    });

    const headers: Record<string, string> = {
      ':method': 'POST',
      ':path': FAIL_ACTIVITY_TASK_PATH,
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': 'swf-sidecar-cli',
    };
    if (timeoutMs > 0) headers['grpc-timeout'] = formatGrpcTimeout(timeoutMs);
    const stream = session.request(headers);
    stream.on('response', (received) => {
      responseHeaders = received;
    });
    stream.on('trailers', (received: IncomingHttpHeaders) => {
      trailers = received;
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', (error: Error) => {
      lastError = error;
    });
    stream.on('close', () => {
      if (settled) return;
      if (!reached) {
        const why = lastError?.message ?? 'the connection closed';
        fail(GRPC_CODE.UNAVAILABLE, `No connection established: ${why}`);
        return;
      }
      // A trailers-only answer carries the status in its headers.
      const statusHeaders = trailers ?? (responseHeaders?.['grpc-status'] !== undefined ? responseHeaders : undefined);
      if (statusHeaders === undefined) {
        // The session is gone only when the connection dropped: finish() is what destroys it otherwise.
        noStatus(responseHeaders, stream.rstCode, session.destroyed, lastError, fail);
        return;
      }
      const code = Number(headerText(statusHeaders['grpc-status']));
      const message = decodeGrpcMessage(headerText(statusHeaders['grpc-message']));
      if (!Number.isInteger(code) || code < 0) {
        fail(GRPC_CODE.UNKNOWN, `the sidecar sent grpc-status ${JSON.stringify(statusHeaders['grpc-status'])}`);
      } else if (code !== GRPC_CODE.OK) {
        fail(code, message, optionalHeaderText(statusHeaders['retry-after-ms']));
      } else {
        const decoded = decodeOneMessage(Buffer.concat(chunks));
        if (typeof decoded === 'string') fail(GRPC_CODE.INTERNAL, decoded);
        else finish({ kind: 'ok', response: decoded });
      }
    });
    stream.end(frame);
  });
}

/** The stream ended without a gRPC status: what a gRPC client reports for each way that happens. */
function noStatus(
  headers: IncomingHttpHeaders | undefined,
  rstCode: number,
  connectionLost: boolean,
  lastError: Error | undefined,
  fail: (code: number, message: string) => void,
): void {
  // node:http2 gives :status as a number, whatever its type says.
  const httpStatus = headers === undefined ? undefined : Number(optionalHeaderText(headers[':status']));
  if (httpStatus !== undefined && httpStatus !== 200) {
    fail(grpcCodeForHttpStatus(httpStatus), `the sidecar answered HTTP status ${httpStatus}, not a gRPC status`);
  } else if (connectionLost) {
    fail(GRPC_CODE.UNAVAILABLE, `the connection to the sidecar closed before an answer${because(lastError)}`);
  } else if (rstCode === constants.NGHTTP2_REFUSED_STREAM) {
    fail(GRPC_CODE.UNAVAILABLE, 'the sidecar refused the stream (RST_STREAM REFUSED_STREAM)');
  } else if (rstCode === constants.NGHTTP2_CANCEL) {
    fail(GRPC_CODE.CANCELLED, 'the sidecar cancelled the call (RST_STREAM CANCEL)');
  } else {
    fail(GRPC_CODE.INTERNAL, `the call ended without a gRPC status (RST_STREAM code ${rstCode})${because(lastError)}`);
  }
}

function because(error: Error | undefined): string {
  return error === undefined ? '' : `: ${error.message}`;
}

/** A unary answer is exactly one uncompressed message; anything else is a description of what is wrong. */
function decodeOneMessage(body: Buffer): WireFailResponse | string {
  if (body.length < 5) return body.length === 0 ? 'the sidecar answered OK with no message' : 'truncated message';
  const compressed = body[0];
  const length = body.readUInt32BE(1);
  if (compressed !== 0) return 'the sidecar sent a compressed message, which the CLI did not ask for';
  if (body.length !== 5 + length) return body.length < 5 + length ? 'truncated message' : 'more than one message';
  try {
    return decodeFailResponse(body.subarray(5));
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function lengthPrefixed(message: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(5 + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
}

function headerText(value: string | string[] | number | undefined): string {
  return optionalHeaderText(value) ?? '';
}

function optionalHeaderText(value: string | string[] | number | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(',') : String(value);
}

/** grpc-message is percent-encoded (PROTOCOL-HTTP2.md); a malformed one is shown as it came. */
function decodeGrpcMessage(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
