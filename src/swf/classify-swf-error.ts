import type { SendResult } from './swf-port.js';

/** The parts of an SDK (or network) error that classification looks at. */
interface ErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown; requestId?: unknown };
}

const FINAL_ERRORS: Record<string, 'not-found' | 'permission-denied' | 'invalid-argument'> = {
  UnknownResourceFault: 'not-found',
  OperationNotPermittedFault: 'permission-denied',
  AccessDeniedException: 'permission-denied',
  UnrecognizedClientException: 'permission-denied',
  InvalidClientTokenId: 'permission-denied',
  InvalidSignatureException: 'permission-denied',
  ValidationException: 'invalid-argument',
  SerializationException: 'invalid-argument',
};

/** Names the SDK and AWS use for throttling (smithy's THROTTLING_ERROR_CODES). */
const THROTTLING_ERRORS = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'RequestThrottled',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
]);

/** Errors that can pass with time: expired or not-yet-loaded credentials, timeouts. */
const TRANSIENT_ERRORS = new Set([
  'ExpiredTokenException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'AbortError',
  'CredentialsProviderError',
  'InternalFailure',
  'ServiceUnavailable',
]);

const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ERR_HTTP2_STREAM_ERROR',
  'UND_ERR_SOCKET',
  // A malformed answer (http1-response-parser.ts): the call may have been applied.
  'HPE_INVALID_RESPONSE',
]);

const TRANSIENT_HTTP_STATUS = new Set([500, 502, 503, 504]);

/**
 * Classifies an error thrown by one SWF call. Pure: looks only at the error's name, code, fault
 * and HTTP status, as smithy's own retry predicates do.
 */
export function classifySwfError(error: unknown): Exclude<SendResult, { kind: 'delivered' }> {
  const shape = (typeof error === 'object' && error !== null ? error : {}) as ErrorShape;
  const name = typeof shape.name === 'string' ? shape.name : 'Error';
  const code = typeof shape.code === 'string' ? shape.code : undefined;
  const status = typeof shape.$metadata?.httpStatusCode === 'number' ? shape.$metadata.httpStatusCode : undefined;
  const requestId = typeof shape.$metadata?.requestId === 'string' ? shape.$metadata.requestId : undefined;
  const rawMessage = typeof shape.message === 'string' && shape.message !== '' ? shape.message : name;
  const message = status === undefined ? `${name}: ${rawMessage}` : `${name} (HTTP ${status}): ${rawMessage}`;

  const finalCode = FINAL_ERRORS[name];
  if (finalCode !== undefined) return { kind: 'rejected', code: finalCode, errorName: name, message, requestId };
  if (THROTTLING_ERRORS.has(name) || status === 429) {
    return { kind: 'retryable', reason: 'throttled', outcomeUnknown: false, message, requestId };
  }
  if (
    TRANSIENT_ERRORS.has(name) ||
    (code !== undefined && TRANSIENT_NETWORK_CODES.has(code)) ||
    (status !== undefined && TRANSIENT_HTTP_STATUS.has(status)) ||
    shape.$fault === 'server' ||
    // A network error before any HTTP answer: no status at all and not an SWF-modelled fault.
    (status === undefined && shape.$fault === undefined)
  ) {
    const neverSent = code === 'ECONNREFUSED' || name === 'CredentialsProviderError';
    return { kind: 'retryable', reason: 'transient', outcomeUnknown: !neverSent, message, requestId };
  }
  return { kind: 'rejected', code: 'unknown', errorName: name, message, requestId };
}
