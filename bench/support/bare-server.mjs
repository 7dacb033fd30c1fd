// @ts-check
/* global process, URL */
/**
 * The baseline of measurements 1 and 3a: a bare grpc-js unary server of the same contract
 * (proto/swfsidecar/v1/sidecar.proto, loaded with the sidecar's proto-loader options and message
 * size limits) whose FailActivityTask answers QUEUED at once. Plain JavaScript run by plain
 * `node`, like the built sidecar, so neither pays a loader. It serves grpc.health.v1 too, so
 * start-up (measurement 7) is timed the same way for both.
 *
 * Env: BENCH_ADDRESS (HOST:PORT to bind).
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { HealthImplementation } from 'grpc-health-check';

const PROTO_ROOT = fileURLToPath(new URL('../../proto', import.meta.url));
const SERVICE_NAME = 'swfsidecar.v1.ActivityTasks';
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

const definition = protoLoader.loadSync('swfsidecar/v1/sidecar.proto', {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: false,
  oneofs: false,
  includeDirs: [PROTO_ROOT],
});
const service = definition[SERVICE_NAME];
if (service === undefined) throw new Error(`${SERVICE_NAME} missing from the contract`);

const server = new grpc.Server({
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
});
server.addService(/** @type {grpc.ServiceDefinition} */ (service), {
  FailActivityTask(/** @type {unknown} */ _call, /** @type {grpc.sendUnaryData<unknown>} */ callback) {
    callback(null, { outcome: 'OUTCOME_QUEUED', attempts: 0 });
  },
  FailActivityTasks(
    /** @type {grpc.ServerUnaryCall<{tasks?: unknown[]}, unknown>} */ call,
    /** @type {grpc.sendUnaryData<unknown>} */ callback,
  ) {
    const results = (call.request.tasks ?? []).map(() => ({
      code: 0,
      message: '',
      outcome: 'OUTCOME_QUEUED',
      attempts: 0,
    }));
    callback(null, { results });
  },
});
const health = new HealthImplementation({ '': 'NOT_SERVING', [SERVICE_NAME]: 'NOT_SERVING' });
health.addToServer(server);

const address = process.env['BENCH_ADDRESS'] ?? '127.0.0.1:0';
server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    process.stderr.write(`bare-server: ${error.message}\n`);
    process.exit(1);
  }
  health.setStatus('', 'SERVING');
  health.setStatus(SERVICE_NAME, 'SERVING');
  process.stdout.write(`${JSON.stringify({ msg: 'bare server ready', port })}\n`);
});

const stop = () => server.tryShutdown(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
