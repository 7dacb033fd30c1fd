import { chmod, lstat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { PackageDefinition, ServiceDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { Clock } from '../clock.js';
import type { SidecarMetrics } from '../metrics.js';
import { loadReflectedContract, SERVICE_NAME, type WireFailResponse } from './contract.js';
import { instrumentUnary } from './instrument-unary.js';
import { decodeFailBatchRequest, decodeFailRequest } from './request-decoder.js';
import { encodeFailResponse } from './response-encoder.js';

export interface GrpcServerOptions {
  /** HOST:PORT or unix:/path; port 0 picks a free port. */
  readonly address: string;
  readonly maxReceiveMessageBytes: number;
  /** Permissions of a unix socket, e.g. 0o600. */
  readonly unixSocketMode?: number;
  readonly credentials?: ServerCredentials;
}

export interface RunningGrpcServer {
  /** The address clients dial: HOST:PORT with the bound port, or unix:/path. */
  readonly address: string;
  setServing(serving: boolean): void;
  /** Stops accepting calls and waits for running ones; forces them closed after `graceMs`. */
  stop(graceMs: number): Promise<void>;
}

/**
 * The gRPC server: ActivityTasks (instrumented), grpc.health.v1.Health and server reflection,
 * so grpcurl works without the proto file.
 */
export async function startGrpcServer(
  options: GrpcServerOptions,
  definition: PackageDefinition,
  handlers: UntypedServiceImplementation,
  metrics: SidecarMetrics,
  clock: Clock,
): Promise<RunningGrpcServer> {
  const server = new Server({
    'grpc.max_receive_message_length': options.maxReceiveMessageBytes,
    'grpc.max_send_message_length': options.maxReceiveMessageBytes,
  });
  const serviceDefinition = definition[SERVICE_NAME];
  if (serviceDefinition === undefined || !('FailActivityTask' in serviceDefinition)) {
    throw new Error(`${SERVICE_NAME} is missing from the loaded contract`);
  }
  const instrumented: UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(handlers)) {
    instrumented[method] = instrumentUnary(SERVICE_NAME, method, handler as never, metrics, clock);
  }
  server.addService(withContractDecoders(serviceDefinition), instrumented);

  const health = new HealthImplementation({ '': 'NOT_SERVING', [SERVICE_NAME]: 'NOT_SERVING' });
  health.addToServer(server);
  new ReflectionService(loadReflectedContract()).addToServer(server);

  const socketPath = options.address.startsWith('unix:') ? options.address.replace(/^unix:(\/\/)?/, '') : undefined;
  if (socketPath !== undefined) await removeStaleSocket(socketPath);
  // The socket is created with the umask's permissions: narrow it for the bind, so the socket
  // never exists with wider permissions than asked, even for a moment.
  const previousUmask =
    socketPath !== undefined && options.unixSocketMode !== undefined
      ? process.umask(0o777 & ~options.unixSocketMode)
      : undefined;
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(
        options.address,
        options.credentials ?? ServerCredentials.createInsecure(),
        (error, boundPort) => (error ? reject(error) : resolve(boundPort)),
      );
    });
  } finally {
    if (previousUmask !== undefined) process.umask(previousUmask);
  }
  if (socketPath !== undefined && options.unixSocketMode !== undefined) await chmod(socketPath, options.unixSocketMode);
  const address = socketPath !== undefined ? options.address : options.address.replace(/:\d+$/, `:${port}`);

  return {
    address,
    setServing(serving) {
      const value = serving ? 'SERVING' : 'NOT_SERVING';
      health.setStatus('', value);
      health.setStatus(SERVICE_NAME, value);
    },
    stop(graceMs) {
      return new Promise<void>((resolve) => {
        const timer = clock.setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clock.clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

/**
 * The ActivityTasks methods decode requests with the contract-specific decoder
 * (request-decoder.ts), and FailActivityTask encodes its two-field response by hand
 * (response-encoder.ts); the batch response is encoded by proto-loader as usual.
 */
function withContractDecoders(service: ServiceDefinition): ServiceDefinition {
  const decoded: ServiceDefinition = {};
  for (const [name, method] of Object.entries(service)) {
    if (name === 'FailActivityTask') {
      decoded[name] = {
        ...method,
        requestDeserialize: decodeFailRequest,
        responseSerialize: (value: object) => encodeFailResponse(value as WireFailResponse),
      };
    } else if (name === 'FailActivityTasks') {
      decoded[name] = { ...method, requestDeserialize: decodeFailBatchRequest };
    } else {
      decoded[name] = method;
    }
  }
  return decoded;
}

/**
 * A socket file left by a process that died is removed; one a live process still listens on is
 * left alone (the bind then fails with EADDRINUSE, as it should).
 */
async function removeStaleSocket(path: string): Promise<void> {
  const stats = await lstat(path).catch(() => undefined);
  if (stats === undefined || !stats.isSocket()) return;
  const alive = await new Promise<boolean>((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
  if (!alive) await unlink(path);
}
