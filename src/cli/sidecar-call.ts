import { Client, connectivityState, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { WireFailRequest, WireFailResponse } from '../grpc/contract.js';
import { decodeFailResponse, encodeFailRequest, FAIL_ACTIVITY_TASK_PATH } from './fail-request-codec.js';

export type CallResult =
  | { readonly kind: 'ok'; readonly response: WireFailResponse }
  | {
      readonly kind: 'error';
      readonly code: status;
      /** The code's name, e.g. NOT_FOUND. */
      readonly codeName: string;
      readonly message: string;
      /** Whether the channel ever connected to the sidecar (an UNAVAILABLE without is a connection error). */
      readonly reachedSidecar: boolean;
      /** The sidecar's `retry-after-ms` trailer (sent with RESOURCE_EXHAUSTED from a full queue). */
      readonly retryAfterMs: string | undefined;
    };

/**
 * One FailActivityTask call to the sidecar at `endpoint` (HOST:PORT or unix:/path), bounded by a
 * gRPC deadline of `timeoutMs` (0: none). No retries of our own: a failed call says why, and
 * the exit code tells a script whether trying again can help.
 */
export async function failActivityTask(
  endpoint: string,
  request: WireFailRequest,
  timeoutMs: number,
): Promise<CallResult> {
  const client = new Client(endpoint, credentials.createInsecure());
  const reached = watchForReady(client.getChannel());
  try {
    return await new Promise<CallResult>((resolve) => {
      client.makeUnaryRequest<WireFailRequest, WireFailResponse>(
        FAIL_ACTIVITY_TASK_PATH,
        encodeFailRequest,
        decodeFailResponse,
        request,
        new Metadata(),
        { deadline: timeoutMs > 0 ? Date.now() + timeoutMs : Infinity },
        (error: ServiceError | null, response?: WireFailResponse) => {
          if (error === null && response !== undefined) {
            resolve({ kind: 'ok', response });
            return;
          }
          const code = error?.code ?? status.INTERNAL;
          const retryAfter = error?.metadata?.get('retry-after-ms')[0];
          resolve({
            kind: 'error',
            code,
            codeName: status[code] ?? `status ${code}`,
            message: error?.details ?? 'no response and no error',
            reachedSidecar: reached.value,
            retryAfterMs: retryAfter === undefined ? undefined : String(retryAfter),
          });
        },
      );
    });
  } finally {
    client.close();
  }
}

/** Follows the channel's states and remembers whether it ever was READY. */
function watchForReady(channel: ReturnType<Client['getChannel']>): { value: boolean } {
  const reached = { value: false };
  const watch = (): void => {
    const state = channel.getConnectivityState(false);
    if (state === connectivityState.READY) reached.value = true;
    else if (state !== connectivityState.SHUTDOWN) channel.watchConnectivityState(state, Infinity, watch);
  };
  watch();
  return reached;
}
