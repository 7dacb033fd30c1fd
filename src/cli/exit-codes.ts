import { GRPC_CODE } from './grpc-wire.js';

/**
 * Exit codes of the client commands, as the AWS CLI version 2 uses them
 * (https://docs.aws.amazon.com/cli/latest/userguide/cli-chap-retcodes.html).
 */
export const EXIT = {
  ok: 0,
  /** Bad command syntax, an unknown option, or a parameter value that prevented the call. */
  usage: 252,
  /** The service (the sidecar) answered with an error. */
  serviceError: 254,
  /** Anything else: the sidecar could not be reached, or gave no answer before the deadline. */
  other: 255,
} as const;

/**
 * The exit code for a call that ended with gRPC status `code`. `reachedSidecar` says whether the
 * channel ever connected: the AWS CLI exits 255 for a connection error and 254 for an error the
 * service answered, and an UNAVAILABLE without a connection is the former.
 *
 * DEADLINE_EXCEEDED and CANCELLED are decided by the client itself (no answer came in time), like
 * the AWS CLI's read timeouts, so they are 255 too. Every other status is the sidecar's answer.
 */
export function exitCodeForStatus(code: number, reachedSidecar: boolean): number {
  if (code === GRPC_CODE.OK) return EXIT.ok;
  if (code === GRPC_CODE.DEADLINE_EXCEEDED || code === GRPC_CODE.CANCELLED) return EXIT.other;
  if (code === GRPC_CODE.UNAVAILABLE && !reachedSidecar) return EXIT.other;
  return EXIT.serviceError;
}
