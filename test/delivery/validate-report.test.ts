import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SWF_LIMITS, validateReport } from '../../src/delivery/validate-report.js';

describe('validateReport', () => {
  it('accepts every field at its limit', () => {
    assert.equal(
      validateReport({
        taskToken: 't'.repeat(SWF_LIMITS.taskTokenMaxChars),
        reason: 'r'.repeat(SWF_LIMITS.reasonMaxChars),
        details: 'd'.repeat(SWF_LIMITS.detailsMaxChars),
      }),
      undefined,
    );
  });

  it('accepts absent and empty reason and details', () => {
    assert.equal(validateReport({ taskToken: 't' }), undefined);
    assert.equal(validateReport({ taskToken: 't', reason: '', details: '' }), undefined);
  });

  const overLimit: [string, Parameters<typeof validateReport>[0], RegExp][] = [
    ['empty token', { taskToken: '' }, /^task_token is required/],
    ['token one over', { taskToken: 't'.repeat(1025) }, /^task_token is 1025 characters long; the limit is 1024/],
    [
      'reason one over',
      { taskToken: 't', reason: 'r'.repeat(257) },
      /^reason is 257 characters long; the limit is 256/,
    ],
    [
      'details one over',
      { taskToken: 't', details: 'd'.repeat(32_769) },
      /^details is 32769 characters long; the limit is 32768/,
    ],
  ];
  for (const [name, report, message] of overLimit) {
    it(`refuses ${name} with INVALID_ARGUMENT naming field, length and limit`, () => {
      const error = validateReport(report);
      assert.equal(error?.kind, 'invalid-argument');
      assert.match(error.message, message);
    });
  }

  it('counts characters as UTF-16 code units: an emoji counts 2', () => {
    assert.equal(validateReport({ taskToken: 't', reason: '🚀'.repeat(128) }), undefined);
    assert.match(validateReport({ taskToken: 't', reason: `${'🚀'.repeat(128)}x` })?.message ?? '', /257 characters/);
    assert.equal(validateReport({ taskToken: 't', reason: 'é'.repeat(256) }), undefined);
  });
});
