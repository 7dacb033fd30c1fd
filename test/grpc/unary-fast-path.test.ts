import assert from 'node:assert/strict';
import { connect, type ClientHttp2Session } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import {
  credentials,
  Metadata,
  Server,
  ServerCredentials,
  status,
  type ServiceError,
  type sendUnaryData,
  type ServerUnaryCall,
} from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { systemClock } from '../../src/clock.js';
import { SidecarError } from '../../src/errors.js';
import { activityTasksClientConstructor, activityTasksDefinition, loadContract } from '../../src/grpc/contract.js';
import { CallInstruments } from '../../src/grpc/instrument-unary.js';
import { decodeFailRequest, type DecodedRequest } from '../../src/grpc/request-decoder.js';
import { encodeFailResponse } from '../../src/grpc/response-encoder.js';
import { installUnaryFastPath, ResponseFrames, type FastUnaryRoute } from '../../src/grpc/unary-fast-path.js';
import type { UnaryMethod } from '../../src/grpc/unary-method.js';
import type { WireFailResponse } from '../../src/grpc/contract.js';
import { SidecarMetrics } from '../../src/metrics.js';
import { until } from '../support/until.js';

const FAIL_ONE = '/swfsidecar.v1.ActivityTasks/FailActivityTask';
const MAX_MESSAGE_BYTES = 4096;

type Client = {
  FailActivityTask(
    request: object,
    metadata: Metadata,
    options: { deadline?: number },
    callback: (error: ServiceError | null, response?: WireFailResponse) => void,
  ): { cancel(): void };
  close(): void;
};

/**
 * The fast path in front of a real grpc-js server. grpc-js's own implementation of the method
 * answers attempts 99 and the fast route answers attempts 1, so each answer says which path
 * served it. Token prefixes steer the fast route: "hang" never answers, "busy" is refused with a
 * retry delay; the suffix "-late" holds the thread 60 ms before the answer.
 */
describe('the unary fast path in front of grpc-js', () => {
  const definition = loadContract();
  const service = activityTasksDefinition(definition);
  const registry = new Registry();
  const metrics = new SidecarMetrics(registry);
  const instruments = new CallInstruments('swfsidecar.v1.ActivityTasks', 'FailActivityTask', metrics, systemClock);
  const fastMethod: UnaryMethod<DecodedRequest, WireFailResponse> = {
    name: 'FailActivityTask',
    decode: decodeFailRequest,
    encode: encodeFailResponse,
    handle: (request) => {
      const token = 'report' in request ? request.report.taskToken : '';
      if (token.startsWith('hang')) return new Promise(() => undefined);
      if (token.endsWith('-late')) {
        // A loop that is late: the answer is ready only after the call's 20 ms deadline, before
        // the deadline timer could run (bounded: 60 ms of this thread, once).
        const readyAt = Date.now() + 60;
        while (Date.now() < readyAt);
      }
      if (token.startsWith('busy')) {
        return Promise.reject(new SidecarError('resource-exhausted', 'queue full: réessayez', { retryAfterMs: 250 }));
      }
      return Promise.resolve({ outcome: 'OUTCOME_QUEUED', attempts: 1 });
    },
  };
  let server: Server;
  let address: string;
  let installed: boolean;
  let client: Client;
  let compressingClient: Client;
  let session: ClientHttp2Session;

  before(async () => {
    server = new Server({ 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES });
    server.addService(service, {
      FailActivityTask(_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<WireFailResponse>) {
        callback(null, { outcome: 'OUTCOME_QUEUED', attempts: 99 });
      },
      FailActivityTasks(_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<object>) {
        callback(null, { results: [] });
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    address = `127.0.0.1:${port}`;
    const routes = new Map<string, FastUnaryRoute>([
      [FAIL_ONE, { method: fastMethod, instruments, frames: new ResponseFrames() }],
    ]);
    installed = installUnaryFastPath(server, routes, MAX_MESSAGE_BYTES);
    const Constructor = activityTasksClientConstructor(definition);
    client = new Constructor(address, credentials.createInsecure()) as unknown as Client;
    compressingClient = new Constructor(address, credentials.createInsecure(), {
      'grpc.default_compression_algorithm': 2, // gzip
    }) as unknown as Client;
    session = connect(`http://${address}`);
  });
  after(async () => {
    client.close();
    compressingClient.close();
    session.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  const call = (
    request: object,
    options: { deadline?: number; compress?: boolean } = {},
  ): Promise<{ response?: WireFailResponse; error?: ServiceError }> =>
    new Promise((resolve) => {
      (options.compress === true ? compressingClient : client).FailActivityTask(
        request,
        new Metadata(),
        { deadline: options.deadline },
        (error, response) => resolve(error ? { error } : response === undefined ? {} : { response }),
      );
    });

  const handledCount = async (code: string): Promise<number> => {
    const metric = await registry.getSingleMetric('grpc_server_handled_total')?.get();
    return metric?.values.find((value) => value.labels['grpc_code'] === code)?.value ?? 0;
  };

  const startedCount = async (): Promise<number> =>
    (await registry.getSingleMetric('grpc_server_started_total')?.get())?.values[0]?.value ?? 0;

  it('takes plain calls of its routes, and leaves every other call to grpc-js', async () => {
    assert.equal(installed, true, 'this @grpc/grpc-js no longer has the shape the fast path hooks into');
    assert.deepEqual((await call({ taskToken: 'plain' })).response, { outcome: 'OUTCOME_QUEUED', attempts: 1 });
    assert.deepEqual((await call({ taskToken: 'deadline' }, { deadline: Date.now() + 5000 })).response, {
      outcome: 'OUTCOME_QUEUED',
      attempts: 1,
    });
    // A compressed message is grpc-js's to decompress.
    assert.deepEqual((await call({ taskToken: 'zipped' }, { compress: true })).response, {
      outcome: 'OUTCOME_QUEUED',
      attempts: 99,
    });
    const other = await rawCall(session, '/swfsidecar.v1.ActivityTasks/FailActivityTasks', frame(Buffer.alloc(0)));
    assert.equal(other.grpcStatus, status.OK);
    const badTimeout = await rawCall(session, FAIL_ONE, frame(Buffer.from([0x0a, 0x01, 0x61])), {
      'grpc-timeout': 'soon',
    });
    assert.equal(badTimeout.grpcStatus, status.INTERNAL);
    assert.match(badTimeout.grpcMessage, /Invalid grpc-timeout value/);
    // Content types other than protobuf's are grpc-js's to answer (or refuse at the HTTP level).
    const json = await rawCall(session, FAIL_ONE, frame(Buffer.alloc(0)), { 'content-type': 'application/grpc+json' });
    assert.deepEqual([...json.body], [0, 0, 0, 0, 4, 0x08, 0x02, 0x10, 99]);
    const notGrpc = await rawCall(session, FAIL_ONE, frame(Buffer.alloc(0)), { 'content-type': 'application/json' });
    assert.equal(notGrpc.httpStatus, 415);
  });

  it('answers with the headers and trailers grpc-js sends', async () => {
    const answer = await rawCall(session, FAIL_ONE, frame(Buffer.from([0x0a, 0x01, 0x61])), { 'grpc-timeout': '5S' });
    assert.equal(answer.httpStatus, 200);
    assert.equal(answer.headers['content-type'], 'application/grpc+proto');
    assert.equal(answer.headers['grpc-encoding'], 'identity');
    assert.deepEqual([answer.grpcStatus, answer.grpcMessage], [status.OK, 'OK']);
    assert.deepEqual([...answer.body], [0, 0, 0, 0, 4, 0x08, 0x02, 0x10, 0x01]);
  });

  it('sends a refusal with its trailers, its message percent-encoded', async () => {
    const { error } = await call({ taskToken: 'busy-1' });
    assert.equal(error?.code, status.RESOURCE_EXHAUSTED);
    assert.equal(error.details, 'queue full: réessayez');
    assert.deepEqual(error.metadata.get('retry-after-ms'), ['250']);
    assert.deepEqual(error.metadata.get('grpc-retry-pushback-ms'), ['250']);
  });

  it('ends an expired call with DEADLINE_EXCEEDED and a cancelled one as CANCELLED', async () => {
    const expiredBefore = await handledCount('DEADLINE_EXCEEDED');
    const { error } = await call({ taskToken: 'hang-deadline' }, { deadline: Date.now() + 50 });
    assert.equal(error?.code, status.DEADLINE_EXCEEDED);
    // The server's own timer, seen without a client deadline racing it.
    const hangToken = Buffer.concat([Buffer.from([0x0a, 8]), Buffer.from('hang-raw')]);
    const expired = await rawCall(session, FAIL_ONE, frame(hangToken), { 'grpc-timeout': '30m' });
    assert.deepEqual([expired.grpcStatus, expired.grpcMessage], [status.DEADLINE_EXCEEDED, 'Deadline exceeded']);
    await until(async () => (await handledCount('DEADLINE_EXCEEDED')) === expiredBefore + 2, {
      timeoutMs: 2000,
      describe: () => 'both expired calls counted as DEADLINE_EXCEEDED',
    });

    const cancelledBefore = await handledCount('CANCELLED');
    const startedBefore = await startedCount();
    const pending = client.FailActivityTask({ taskToken: 'hang-cancel' }, new Metadata(), {}, () => undefined);
    await until(async () => (await startedCount()) === startedBefore + 1, {
      timeoutMs: 2000,
      describe: () => 'the call reached the server',
    });
    pending.cancel();
    await until(async () => (await handledCount('CANCELLED')) === cancelledBefore + 1, {
      timeoutMs: 2000,
      describe: () => 'the cancelled call counted as CANCELLED',
    });
  });

  it('an answer or refusal ready after the deadline, before the deadline timer ran, is DEADLINE_EXCEEDED', async () => {
    for (const token of ['ok-late', 'busy-late']) {
      const expiredBefore = await handledCount('DEADLINE_EXCEEDED');
      const othersBefore = [await handledCount('OK'), await handledCount('RESOURCE_EXHAUSTED')];
      const message = Buffer.concat([Buffer.from([0x0a, token.length]), Buffer.from(token)]);
      const late = await rawCall(session, FAIL_ONE, frame(message), { 'grpc-timeout': '20m' });
      assert.deepEqual([late.grpcStatus, late.grpcMessage], [status.DEADLINE_EXCEEDED, 'Deadline exceeded'], token);
      assert.equal(await handledCount('DEADLINE_EXCEEDED'), expiredBefore + 1, token);
      assert.deepEqual([await handledCount('OK'), await handledCount('RESOURCE_EXHAUSTED')], othersBefore, token);
    }
  });

  it('refuses bodies that are not one message, with grpc-js codes', async () => {
    const tooLarge = await rawCall(
      session,
      FAIL_ONE,
      frame(Buffer.alloc(16), { declaredLength: MAX_MESSAGE_BYTES + 1 }),
    );
    assert.equal(tooLarge.grpcStatus, status.RESOURCE_EXHAUSTED);
    assert.match(
      tooLarge.grpcMessage,
      new RegExp(`larger than max \\(${MAX_MESSAGE_BYTES + 1} vs ${MAX_MESSAGE_BYTES}\\)`),
    );
    const sentTooMuch = await rawCall(session, FAIL_ONE, frame(Buffer.alloc(MAX_MESSAGE_BYTES + 100)));
    assert.equal(sentTooMuch.grpcStatus, status.RESOURCE_EXHAUSTED);
    const none = await rawCall(session, FAIL_ONE, Buffer.alloc(0));
    assert.deepEqual(
      [none.grpcStatus, none.grpcMessage],
      [status.UNIMPLEMENTED, `Received no request message for ${FAIL_ONE}`],
    );
    const cut = await rawCall(session, FAIL_ONE, frame(Buffer.from([0x0a]), { declaredLength: 10 }));
    assert.equal(cut.grpcStatus, status.UNIMPLEMENTED);
    const two = await rawCall(session, FAIL_ONE, Buffer.concat([frame(Buffer.alloc(1)), frame(Buffer.alloc(1))]));
    assert.deepEqual(
      [two.grpcStatus, two.grpcMessage],
      [status.UNIMPLEMENTED, `Received a second request message for ${FAIL_ONE}`],
    );
    const flagged = await rawCall(session, FAIL_ONE, frame(Buffer.from([0x0a, 0x01, 0x61]), { compressedFlag: 1 }));
    assert.equal(flagged.grpcStatus, status.INTERNAL);
    // The session survives all of it.
    assert.deepEqual((await call({ taskToken: 'after' })).response, { outcome: 'OUTCOME_QUEUED', attempts: 1 });
  });

  it('changes nothing on a server grpc-js has not bound', () => {
    const unbound = new Server();
    assert.equal(installUnaryFastPath(unbound, new Map(), MAX_MESSAGE_BYTES), false);
  });
});

function frame(message: Buffer, options: { declaredLength?: number; compressedFlag?: number } = {}): Buffer {
  const header = Buffer.alloc(5);
  header[0] = options.compressedFlag ?? 0;
  header.writeUInt32BE(options.declaredLength ?? message.length, 1);
  return Buffer.concat([header, message]);
}

interface RawAnswer {
  httpStatus: number;
  headers: Record<string, string | string[] | undefined>;
  grpcStatus: number | undefined;
  grpcMessage: string;
  body: Buffer;
}

/** One call over plain HTTP/2, the status read from the trailers or a trailers-only answer. */
function rawCall(
  session: ClientHttp2Session,
  path: string,
  body: Buffer,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...headers,
    });
    let responseHeaders: Record<string, string | string[] | undefined> = {};
    let trailers: Record<string, string | string[] | undefined> = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (responseHeaders = h));
    stream.on('trailers', (t: Record<string, string | string[] | undefined>) => (trailers = t));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('close', () => {
      const statusHeader = trailers['grpc-status'] ?? responseHeaders['grpc-status'];
      const message = trailers['grpc-message'] ?? responseHeaders['grpc-message'];
      resolve({
        httpStatus: Number(responseHeaders[':status'] ?? 0),
        headers: responseHeaders,
        grpcStatus: statusHeader === undefined ? undefined : Number(statusHeader),
        grpcMessage: typeof message === 'string' ? decodeURIComponent(message) : '',
        body: Buffer.concat(chunks),
      });
    });
    stream.end(body);
  });
}
