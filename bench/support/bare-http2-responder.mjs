// @ts-check
/* global process, Buffer */
/**
 * The ungraded floor of measurement 3c: the least a Node.js gRPC front end can do. Plain
 * node:http2, no grpc-js, no decoding: every FailActivityTask stream is drained and answered with
 * one constant FailActivityTaskResponse{outcome: QUEUED} frame and grpc-status 0. It answers
 * grpc.health.v1.Health/Check with SERVING, so the bench's start-up wait works as for the others.
 * What separates it from the bare grpc-js server is grpc-js itself; what separates the sidecar
 * from it is everything the sidecar does with a call.
 *
 * Env: BENCH_ADDRESS (HOST:PORT to bind).
 */
import http2 from 'node:http2';

/** A gRPC length-prefixed message: not compressed, 2 bytes, field 1 varint = value. */
const frame = (/** @type {number} */ value) => Buffer.from([0, 0, 0, 0, 2, 0x08, value]);
const QUEUED = frame(2);
const SERVING = frame(1);

const [host, port] = (process.env['BENCH_ADDRESS'] ?? '127.0.0.1:0').split(/:(?=\d+$)/);
const server = http2.createServer();
server.on('stream', (stream, headers) => {
  const answer = headers[':path'] === '/grpc.health.v1.Health/Check' ? SERVING : QUEUED;
  stream.on('data', () => {});
  stream.on('end', () => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(answer);
  });
});
server.listen(Number(port), host);
process.on('SIGTERM', () => process.exit(0));
