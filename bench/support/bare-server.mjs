// @ts-check
/* global process, URL, Buffer */
/**
 * The baseline of measurements 1 and 3a: a bare grpc-js unary server of the same contract
 * (proto/swfsidecar/v1/sidecar.proto, loaded with the sidecar's proto-loader options and message
 * size limits) whose FailActivityTask answers QUEUED at once. Plain JavaScript run by plain
 * `node`, like the built sidecar, so neither pays a loader. It serves grpc.health.v1 too, so
 * start-up (measurement 7) is timed the same way for both.
 *
 * With BENCH_FORWARD_URL set it is the relay baseline of measurement 2 instead: FailActivityTask
 * POSTs the report as RespondActivityTaskFailed (JSON 1.0, plain `node:http` on a keep-alive
 * agent; no signing, queue, limiter or metrics) to that URL and answers DELIVERED when the answer
 * has been read, or UNAVAILABLE if the POST failed: the least a Node.js gRPC hop in front of SWF
 * can add to a call's latency.
 *
 * Env: BENCH_ADDRESS (HOST:PORT to bind), BENCH_FORWARD_URL (optional, the fake SWF).
 */
import http from 'node:http';
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

const forwardUrl = process.env['BENCH_FORWARD_URL'];
const forwardTarget = forwardUrl === undefined || forwardUrl === '' ? undefined : new URL(forwardUrl);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/**
 * One RespondActivityTaskFailed to the forward target; calls back with null when answered 2xx.
 * @param {URL} target
 * @param {{ taskToken?: string, reason?: string, details?: string }} report
 * @param {(error: Error | null) => void} done
 */
function forward(target, report, done) {
  const body = JSON.stringify({ taskToken: report.taskToken, reason: report.reason, details: report.details });
  const request = http.request(
    {
      host: target.hostname,
      port: target.port,
      path: '/',
      method: 'POST',
      agent,
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'SimpleWorkflowService.RespondActivityTaskFailed',
        'content-length': Buffer.byteLength(body),
      },
    },
    (response) => {
      let answer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (answer += chunk));
      response.on('end', () => {
        const code = response.statusCode ?? 0;
        if (answer !== '') JSON.parse(answer);
        done(code >= 200 && code < 300 ? null : new Error(`SWF answered HTTP ${code}`));
      });
    },
  );
  request.on('error', done);
  request.end(body);
}

const server = new grpc.Server({
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
});
server.addService(/** @type {grpc.ServiceDefinition} */ (service), {
  FailActivityTask(
    /** @type {grpc.ServerUnaryCall<{ taskToken?: string, reason?: string, details?: string }, unknown>} */ call,
    /** @type {grpc.sendUnaryData<unknown>} */ callback,
  ) {
    if (forwardTarget === undefined) {
      callback(null, { outcome: 'OUTCOME_QUEUED', attempts: 0 });
      return;
    }
    forward(forwardTarget, call.request, (error) =>
      error === null
        ? callback(null, { outcome: 'OUTCOME_DELIVERED', attempts: 1 })
        : callback({ code: grpc.status.UNAVAILABLE, details: error.message }),
    );
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
