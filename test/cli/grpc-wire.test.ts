import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { GRPC_CODE, grpcCodeForHttpStatus, grpcCodeName } from '../../src/cli/grpc-wire.js';

test('code names and numbers agree with grpc-js, for every code gRPC defines', () => {
  for (let code = 0; code <= 16; code++) assert.equal(grpcCodeName(code), status[code], `code ${code}`);
  assert.equal(grpcCodeName(17), 'status 17');
  for (const [name, code] of Object.entries(GRPC_CODE)) assert.equal(status[name as keyof typeof status], code, name);
});

test('HTTP statuses without a gRPC status map as http-grpc-status-mapping.md says', () => {
  const expected: [number, number][] = [
    [400, status.INTERNAL],
    [401, status.UNAUTHENTICATED],
    [403, status.PERMISSION_DENIED],
    [404, status.UNIMPLEMENTED],
    [429, status.UNAVAILABLE],
    [502, status.UNAVAILABLE],
    [503, status.UNAVAILABLE],
    [504, status.UNAVAILABLE],
    [500, status.UNKNOWN],
    [302, status.UNKNOWN],
  ];
  for (const [http, grpc] of expected) assert.equal(grpcCodeForHttpStatus(http), grpc, `HTTP ${http}`);
});
