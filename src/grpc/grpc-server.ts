import { chmod, lstat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { PackageDefinition, ServiceDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { Clock } from '../clock.js';
import type { SidecarMetrics } from '../metrics.js';
import { activityTasksDefinition, loadReflectedContract, SERVICE_NAME } from './contract.js';
import { CallInstruments, grpcJsUnaryHandler } from './instrument-unary.js';
import type { AnyUnaryMethod } from './unary-method.js';
import { installUnaryFastPath, ResponseFrames, type FastUnaryRoute } from './unary-fast-path.js';

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
  /**
   * The ActivityTasks calls are served off the HTTP/2 stream (unary-fast-path.ts); false when
   * this grpc-js version did not allow it and grpc-js serves them.
   */
  readonly fastPath: boolean;
  setServing(serving: boolean): void;
  /** Stops accepting calls and waits for running ones; forces them closed after `graceMs`. */
  stop(graceMs: number): Promise<void>;
}

/**
 * The gRPC server: ActivityTasks (instrumented), grpc.health.v1.Health and server reflection,
 * so grpcurl works without the proto file. The ActivityTasks methods are served by the fast path
 * in front of grpc-js for plain calls, and by grpc-js for the rest (compressed messages, ...).
 */
export async function startGrpcServer(
  options: GrpcServerOptions,
  definition: PackageDefinition,
  methods: readonly AnyUnaryMethod[],
  metrics: SidecarMetrics,
  clock: Clock,
): Promise<RunningGrpcServer> {
  const server = new Server({
    'grpc.max_receive_message_length': options.maxReceiveMessageBytes,
    'grpc.max_send_message_length': options.maxReceiveMessageBytes,
    // Nothing reads channelz here; it costs grpc-js a call tracker per call.
    'grpc.enable_channelz': 0,
  });
  const serviceDefinition = activityTasksDefinition(definition);
  const grpcJsService: ServiceDefinition = {};
  const grpcJsHandlers: UntypedServiceImplementation = {};
  const fastRoutes = new Map<string, FastUnaryRoute>();
  for (const method of methods) {
    const definitionOfMethod = serviceDefinition[method.name];
    if (definitionOfMethod === undefined) throw new Error(`${SERVICE_NAME}/${method.name} is not in the contract`);
    const instruments = new CallInstruments(SERVICE_NAME, method.name, metrics, clock);
    grpcJsService[method.name] = {
      ...definitionOfMethod,
      requestDeserialize: method.decode,
      responseSerialize: method.encode,
    };
    grpcJsHandlers[method.name] = grpcJsUnaryHandler(method, instruments);
    fastRoutes.set(definitionOfMethod.path, { method, instruments, frames: new ResponseFrames() });
  }
  server.addService(grpcJsService, grpcJsHandlers);

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
  const fastPath = installUnaryFastPath(server, fastRoutes, options.maxReceiveMessageBytes);

  return {
    address,
    fastPath,
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
