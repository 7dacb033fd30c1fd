import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifySwfError } from '../../src/swf/classify-swf-error.js';

const sdkError = (name: string, status: number | undefined, fault?: 'client' | 'server', code?: string) =>
  Object.assign(new Error(`${name} message`), {
    name,
    code,
    $fault: fault,
    $metadata: { httpStatusCode: status, requestId: 'rid-1' },
  });

describe('classifySwfError', () => {
  const cases: [string, unknown, Record<string, unknown>][] = [
    ['UnknownResourceFault', sdkError('UnknownResourceFault', 400, 'client'), { kind: 'rejected', code: 'not-found' }],
    [
      'OperationNotPermittedFault',
      sdkError('OperationNotPermittedFault', 400, 'client'),
      { kind: 'rejected', code: 'permission-denied' },
    ],
    [
      'ValidationException',
      sdkError('ValidationException', 400, 'client'),
      { kind: 'rejected', code: 'invalid-argument' },
    ],
    [
      'ThrottlingException (a 400)',
      sdkError('ThrottlingException', 400, 'client'),
      { kind: 'retryable', reason: 'throttled', outcomeUnknown: false },
    ],
    [
      'InternalFailure 500',
      sdkError('InternalFailure', 500, 'server'),
      { kind: 'retryable', reason: 'transient', outcomeUnknown: true },
    ],
    [
      'ServiceUnavailable 503',
      sdkError('ServiceUnavailable', 503, 'server'),
      { kind: 'retryable', reason: 'transient' },
    ],
    [
      "moto's HTML 500 (SyntaxError, no $fault)",
      sdkError('SyntaxError', 500),
      { kind: 'retryable', reason: 'transient' },
    ],
    [
      'connection reset (SDK names it TimeoutError)',
      sdkError('TimeoutError', undefined, undefined, 'ECONNRESET'),
      { kind: 'retryable', reason: 'transient', outcomeUnknown: true },
    ],
    [
      'connection refused: never sent',
      sdkError('Error', undefined, undefined, 'ECONNREFUSED'),
      { kind: 'retryable', reason: 'transient', outcomeUnknown: false },
    ],
    [
      'a malformed HTTP answer (HPE_INVALID_RESPONSE): outcome unknown',
      sdkError('Http1ProtocolError', undefined, undefined, 'HPE_INVALID_RESPONSE'),
      { kind: 'retryable', reason: 'transient', outcomeUnknown: true },
    ],
    ['an unmodelled 4xx', sdkError('SomethingNew', 400, 'client'), { kind: 'rejected', code: 'unknown' }],
  ];
  for (const [name, error, expected] of cases) {
    it(name, () => {
      const result = classifySwfError(error);
      for (const [key, value] of Object.entries(expected)) {
        assert.equal((result as Record<string, unknown>)[key], value, `${key} of ${JSON.stringify(result)}`);
      }
    });
  }

  it("keeps SWF's message and request id", () => {
    const result = classifySwfError(sdkError('UnknownResourceFault', 400, 'client'));
    assert.equal(result.requestId, 'rid-1');
    assert.match(result.message, /UnknownResourceFault \(HTTP 400\): UnknownResourceFault message/);
  });
});
