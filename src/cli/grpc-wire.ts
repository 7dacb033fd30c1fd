/**
 * The bits of the gRPC protocol the CLI's one call needs, without loading @grpc/grpc-js: the
 * status codes by number and name, and the HTTP-to-gRPC status mapping
 * (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md and statuscodes.md).
 */
const CODE_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

export const GRPC_CODE = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  DEADLINE_EXCEEDED: 4,
  PERMISSION_DENIED: 7,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const satisfies Partial<Record<(typeof CODE_NAMES)[number], number>>;

/** NOT_FOUND for 5; `status 42` for a code gRPC does not define. */
export function grpcCodeName(code: number): string {
  return CODE_NAMES[code] ?? `status ${code}`;
}

/** The gRPC status a client reports for an HTTP answer that carries none (http-grpc-status-mapping.md). */
export function grpcCodeForHttpStatus(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return GRPC_CODE.INTERNAL;
    case 401:
      return GRPC_CODE.UNAUTHENTICATED;
    case 403:
      return GRPC_CODE.PERMISSION_DENIED;
    case 404:
      return GRPC_CODE.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GRPC_CODE.UNAVAILABLE;
    default:
      return GRPC_CODE.UNKNOWN;
  }
}
