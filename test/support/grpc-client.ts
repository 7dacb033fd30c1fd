import { credentials, Metadata, type Client, type ServiceError, type ChannelCredentials } from '@grpc/grpc-js';
import { activityTasksClientConstructor } from '../../src/grpc/contract.js';
import type {
  WireFailBatchRequest,
  WireFailBatchResponse,
  WireFailRequest,
  WireFailResponse,
} from '../../src/grpc/contract.js';

/** A real grpc-js client of the ActivityTasks service, with promise-returning calls. */
export interface ActivityTasksTestClient {
  readonly raw: Client;
  fail(request: WireFailRequest, options?: { deadlineMs?: number }): Promise<WireFailResponse>;
  failMany(request: WireFailBatchRequest): Promise<WireFailBatchResponse>;
  /** Resolves with the error a call ended with (or fails the test if it succeeded). */
  failError(request: WireFailRequest, options?: { deadlineMs?: number }): Promise<ServiceError>;
  close(): void;
}

type UnaryMethod = (
  request: unknown,
  metadata: Metadata,
  options: { deadline?: Date },
  callback: (error: ServiceError | null, response: unknown) => void,
) => void;

export function connectClient(
  address: string,
  channelCredentials: ChannelCredentials = credentials.createInsecure(),
  channelOptions: Record<string, unknown> = {},
): ActivityTasksTestClient {
  const Constructor = activityTasksClientConstructor();
  const client = new Constructor(address, channelCredentials, channelOptions);
  const call = <Res>(method: string, request: unknown, deadlineMs?: number): Promise<Res> =>
    new Promise((resolve, reject) => {
      const fn = (client as unknown as Record<string, UnaryMethod>)[method];
      if (fn === undefined) throw new Error(`no method ${method}`);
      const options = deadlineMs === undefined ? {} : { deadline: new Date(Date.now() + deadlineMs) };
      fn.call(client, request, new Metadata(), options, (error, response) =>
        error ? reject(error) : resolve(response as Res),
      );
    });
  return {
    raw: client,
    fail: (request, options) => call<WireFailResponse>('FailActivityTask', request, options?.deadlineMs),
    failMany: (request) => call<WireFailBatchResponse>('FailActivityTasks', request),
    failError: async (request, options) => {
      try {
        const response = await call<WireFailResponse>('FailActivityTask', request, options?.deadlineMs);
        throw new Error(`expected an error, got ${JSON.stringify(response)}`);
      } catch (error) {
        if (typeof (error as ServiceError).code !== 'number') throw error;
        return error as ServiceError;
      }
    },
    close: () => client.close(),
  };
}
