/**
 * The few ways a failure report can end badly. Each kind maps to exactly one gRPC status code in
 * src/grpc/status-codes.ts; nothing else in the code base picks status codes.
 */
export type ErrorKind =
  /** A field is out of bounds, or SWF answered ValidationException. */
  | 'invalid-argument'
  /** SWF answered UnknownResourceFault: the task is no longer open. */
  | 'not-found'
  /** SWF answered OperationNotPermittedFault (or another authorization error). */
  | 'permission-denied'
  /** The queue is full, or SWF kept throttling until the retry budget ran out. */
  | 'resource-exhausted'
  /** SWF could not be reached within the retry budget, or the sidecar is shutting down. */
  | 'unavailable'
  /** SWF answered an error the sidecar does not know; it is not retried. */
  | 'unknown';

export class SidecarError extends Error {
  override readonly name = 'SidecarError';
  readonly kind: ErrorKind;
  /** For 'resource-exhausted' from a full queue: when a retry is likely to be accepted. */
  readonly retryAfterMs: number | undefined;

  constructor(kind: ErrorKind, message: string, options: { cause?: unknown; retryAfterMs?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export function isSidecarError(error: unknown): error is SidecarError {
  return error instanceof SidecarError;
}
