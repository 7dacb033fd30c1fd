/**
 * The CLI's hand-written wire codec (src/cli/fail-request-codec.ts) against the contract as
 * src/grpc/contract.ts loads it from proto/: same path, same request bytes, same decoded
 * responses. A change to the proto that the codec misses fails here.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeFailResponse, encodeFailRequest, FAIL_ACTIVITY_TASK_PATH } from '../../src/cli/fail-request-codec.js';
import {
  activityTasksClientConstructor,
  type WireFailRequest,
  type WireFailResponse,
} from '../../src/grpc/contract.js';

const method = activityTasksClientConstructor().service['FailActivityTask'];

describe('the CLI codec matches the contract', () => {
  test('method path', () => {
    assert.equal(method?.path, FAIL_ACTIVITY_TASK_PATH);
  });

  test('request bytes, field for field', () => {
    assert.ok(method);
    const requests: WireFailRequest[] = [
      { taskToken: 't' },
      { taskToken: 'tok', reason: '', details: '' },
      { taskToken: 'tok', reason: 'disk full', details: 'ünïcødé ✓ 日本語 🚀\n"q"' },
      {
        taskToken: 'x'.repeat(1024),
        reason: 'r'.repeat(256),
        details: 'd'.repeat(32_768),
        delivery: 'DELIVERY_QUEUED',
      },
      { taskToken: 'tok', details: 'only details', delivery: 'DELIVERY_CONFIRMED' },
      { taskToken: 'tok', delivery: 'DELIVERY_UNSPECIFIED' },
    ];
    for (const request of requests) {
      assert.deepEqual(
        encodeFailRequest(request),
        method.requestSerialize(request),
        JSON.stringify(request).slice(0, 80),
      );
      // And the sidecar's decoder reads back exactly what was meant.
      const decoded = method.requestDeserialize(encodeFailRequest(request)) as WireFailRequest;
      assert.deepEqual(decoded, request);
    }
  });

  test('decoded responses', () => {
    assert.ok(method);
    const responses: WireFailResponse[] = [
      { outcome: 'OUTCOME_DELIVERED', attempts: 1 },
      { outcome: 'OUTCOME_QUEUED', attempts: 0 },
      { outcome: 'OUTCOME_DELIVERED', attempts: 300 },
      { outcome: 'OUTCOME_UNSPECIFIED', attempts: 2 ** 32 - 1 },
    ];
    for (const response of responses) {
      assert.deepEqual(decodeFailResponse(method.responseSerialize(response)), response);
    }
    assert.deepEqual(decodeFailResponse(Buffer.alloc(0)), { outcome: 'OUTCOME_UNSPECIFIED', attempts: 0 });
  });

  test('response fields added later are skipped', () => {
    const known = Buffer.from([0x08, 0x01, 0x10, 0x05]); // outcome DELIVERED, attempts 5
    const later = Buffer.from([
      0x1a, 0x03, 0x61, 0x62, 0x63, 0x20, 0x96, 0x01, 0x2d, 1, 2, 3, 4, 0x31, 1, 2, 3, 4, 5, 6, 7, 8,
    ]);
    assert.deepEqual(decodeFailResponse(Buffer.concat([later, known])), { outcome: 'OUTCOME_DELIVERED', attempts: 5 });
    assert.throws(() => decodeFailResponse(Buffer.from([0x1a, 0x05, 0x61])), /truncated/);
  });
});
