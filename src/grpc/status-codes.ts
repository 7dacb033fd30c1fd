import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { type ErrorKind, isSidecarError } from '../errors.js';

/** The one table from error kind to gRPC status code. */
export const STATUS_BY_KIND: Readonly<Record<ErrorKind, status>> = {
  'invalid-argument': status.INVALID_ARGUMENT,
  'not-found': status.NOT_FOUND,
  'permission-denied': status.PERMISSION_DENIED,
  'resource-exhausted': status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
  unknown: status.UNKNOWN,
};

/** Trailer telling a refused caller when to try again, in milliseconds. */
export const RETRY_AFTER_TRAILER = 'retry-after-ms';
/**
 * gRPC's own retry pushback (gRFC A6): clients with a retry policy honour it. A full queue sets
 * it to the same delay; throttling that outlasted the retry budget sets -1 ("do not retry"),
 * because automatic retries would only add load to a quota the whole account shares.
 */
export const RETRY_PUSHBACK_TRAILER = 'grpc-retry-pushback-ms';

/** A call's final status as the caller sees it, whichever transport path sends it. */
export interface CallStatus {
  readonly code: status;
  readonly details: string;
  /** Extra trailers (lower-case ASCII names, string values). */
  readonly trailers: Readonly<Record<string, string>>;
}

const NO_TRAILERS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * Turns anything a handler threw into the status its caller gets. A SidecarError keeps its
 * message; anything else is a bug of ours and says INTERNAL without leaking internals.
 */
export function toCallStatus(error: unknown): CallStatus {
  if (!isSidecarError(error)) {
    return { code: status.INTERNAL, details: `internal error in the sidecar: ${String(error)}`, trailers: NO_TRAILERS };
  }
  let trailers = NO_TRAILERS;
  if (error.retryAfterMs !== undefined) {
    trailers = {
      [RETRY_AFTER_TRAILER]: String(error.retryAfterMs),
      [RETRY_PUSHBACK_TRAILER]: String(error.retryAfterMs),
    };
  } else if (error.kind === 'resource-exhausted') {
    trailers = { [RETRY_PUSHBACK_TRAILER]: '-1' };
  }
  return { code: STATUS_BY_KIND[error.kind], details: error.message, trailers };
}

/** The same status in grpc-js's shape, for the calls grpc-js itself serves. */
export function toServiceError(error: unknown): Partial<ServiceError> {
  const { code, details, trailers } = toCallStatus(error);
  const metadata = new Metadata();
  for (const [name, value] of Object.entries(trailers)) metadata.set(name, value);
  return { code, details, metadata };
}
