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

/**
 * Turns anything a handler caught into the status its caller gets. A SidecarError keeps its
 * message; anything else is a bug of ours and says INTERNAL without leaking internals.
 */
export function toServiceError(error: unknown): Partial<ServiceError> {
  if (!isSidecarError(error)) {
    return { code: status.INTERNAL, details: `internal error in the sidecar: ${String(error)}` };
  }
  const metadata = new Metadata();
  if (error.retryAfterMs !== undefined) {
    metadata.set(RETRY_AFTER_TRAILER, String(error.retryAfterMs));
    metadata.set(RETRY_PUSHBACK_TRAILER, String(error.retryAfterMs));
  } else if (error.kind === 'resource-exhausted') {
    metadata.set(RETRY_PUSHBACK_TRAILER, '-1');
  }
  return { code: STATUS_BY_KIND[error.kind], details: error.message, metadata };
}
