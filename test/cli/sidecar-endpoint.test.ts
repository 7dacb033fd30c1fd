import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '../../src/cli/respond-args.js';
import { parseSidecarEndpoint } from '../../src/cli/sidecar-endpoint.js';

describe('parseSidecarEndpoint', () => {
  test('TCP targets in the forms gRPC clients take', () => {
    const cases: [string, string, number, string][] = [
      ['127.0.0.1:50051', '127.0.0.1', 50051, '127.0.0.1:50051'],
      ['localhost:7', 'localhost', 7, 'localhost:7'],
      ['sidecar', 'sidecar', 443, 'sidecar:443'],
      ['[::1]:50051', '::1', 50051, '[::1]:50051'],
      ['[::1]', '::1', 443, '[::1]:443'],
      ['::1', '::1', 443, '[::1]:443'],
      ['dns:sidecar.local:9000', 'sidecar.local', 9000, 'sidecar.local:9000'],
      ['dns:///sidecar.local:9000', 'sidecar.local', 9000, 'sidecar.local:9000'],
      ['ipv4:10.0.0.1:65535', '10.0.0.1', 65535, '10.0.0.1:65535'],
      ['ipv6:[fe80::1]:1', 'fe80::1', 1, '[fe80::1]:1'],
    ];
    for (const [text, host, port, authority] of cases) {
      assert.deepEqual(parseSidecarEndpoint(text), { kind: 'tcp', host, port, authority }, text);
    }
  });

  test('unix sockets: unix:PATH and unix:///ABSOLUTE', () => {
    for (const [text, path] of [
      ['unix:/run/swf-sidecar/grpc.sock', '/run/swf-sidecar/grpc.sock'],
      ['unix:relative.sock', 'relative.sock'],
      ['unix:///run/s.sock', '/run/s.sock'],
    ] as const) {
      assert.deepEqual(parseSidecarEndpoint(text), { kind: 'unix', path, authority: 'localhost' }, text);
    }
  });

  test('anything else is a UsageError that names the endpoint', () => {
    for (const text of [
      'unix:',
      'unix://relative',
      ':50051',
      'host:',
      'host:0',
      'host:65536',
      'host:50051x',
      'host:-1',
      'http://host:1',
      'a b:1',
      '[::1',
      '[::1]x',
    ]) {
      assert.throws(
        () => parseSidecarEndpoint(text),
        (error: unknown) =>
          error instanceof UsageError &&
          error.message.includes(JSON.stringify(text)) &&
          error.message.includes('expected HOST:PORT or unix:/path'),
        text,
      );
    }
  });
});
