import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadContract, type WireFailBatchRequest, type WireFailRequest } from '../../src/grpc/contract.js';
import { decodeFailBatchRequest, decodeFailRequest, type DecodedRequest } from '../../src/grpc/request-decoder.js';
import { encodeFailResponse } from '../../src/grpc/response-encoder.js';
import { plainReport } from '../support/scripted-swf.js';

const service = loadContract()['swfsidecar.v1.ActivityTasks'] as unknown as Record<
  string,
  { requestSerialize(value: unknown): Buffer; responseSerialize(value: unknown): Buffer }
>;
const encodeOne = (request: WireFailRequest): Buffer => service['FailActivityTask']!.requestSerialize(request);
const encodeMany = (request: WireFailBatchRequest): Buffer => service['FailActivityTasks']!.requestSerialize(request);

function decoded(request: DecodedRequest) {
  if ('problem' in request) assert.fail(request.problem);
  return { ...plainReport(request.report), delivery: request.delivery, report: request.report };
}

describe('request decoder', () => {
  it('reads what protobufjs writes, keeping absent distinct from ""', () => {
    const full = decoded(
      decodeFailRequest(encodeOne({ taskToken: 't', reason: '', details: 'd', delivery: 'DELIVERY_QUEUED' })),
    );
    assert.deepEqual([full.taskToken, full.reason, full.details, full.delivery], ['t', '', 'd', 'DELIVERY_QUEUED']);
    const bare = decoded(decodeFailRequest(encodeOne({ taskToken: 't' })));
    assert.deepEqual([bare.reason, bare.details, bare.delivery], [undefined, undefined, 'DELIVERY_UNSPECIFIED']);
  });

  it('counts lengths in UTF-16 code units without decoding', () => {
    const { report } = decoded(decodeFailRequest(encodeOne({ taskToken: 't', reason: 'é🚀x', details: '日本語' })));
    assert.equal(report.reasonLength, 4);
    assert.equal(report.detailsLength, 3);
    assert.equal(report.reason, 'é🚀x');
    assert.equal(report.details, '日本語');
  });

  it('skips unknown fields of every wire type; the last of a repeated field wins', () => {
    const bytes = Buffer.concat([
      encodeOne({ taskToken: 'first' }),
      Buffer.from([0xf8, 0x06, 0x05]), // field 111, varint
      Buffer.from([0xf9, 0x06, 1, 2, 3, 4, 5, 6, 7, 8]), // field 111, 64-bit
      Buffer.from([0xfd, 0x06, 1, 2, 3, 4]), // field 111, 32-bit
      Buffer.from([0xfa, 0x06, 0x02, 0x68, 0x69]), // field 111, bytes
      encodeOne({ taskToken: 'second' }),
    ]);
    assert.equal(decoded(decodeFailRequest(bytes)).taskToken, 'second');
  });

  it('keeps an unknown delivery number for the handler to refuse', () => {
    assert.equal(decoded(decodeFailRequest(Buffer.from([0x0a, 0x01, 0x61, 0x20, 0x07]))).delivery, 7);
  });

  const problems: [string, Buffer, RegExp][] = [
    ['a length past the end', Buffer.from([0x0a, 0x7f, 0x61]), /a length of 127 runs past the end/],
    ['a varint past the end', Buffer.from([0x20, 0x80]), /a varint runs past the end/],
    ['a known field with the wrong wire type', Buffer.from([0x08, 0x01]), /task_token has wire type 0, expected 2/],
    ['a group (wire type 3) in an unknown field', Buffer.from([0x2b]), /unsupported wire type 3/],
    ['field number 0', Buffer.from([0x02, 0x00]), /field number 0/],
    ['invalid UTF-8 in the token', Buffer.from([0x0a, 0x02, 0xc3, 0x28]), /task_token is not valid UTF-8/],
    [
      'a lone surrogate encoded in reason',
      Buffer.from([0x0a, 0x01, 0x61, 0x12, 0x03, 0xed, 0xa0, 0x80]),
      /reason is not valid UTF-8/,
    ],
  ];
  for (const [what, bytes, message] of problems) {
    it(`says what is wrong with ${what}`, () => {
      const result = decodeFailRequest(bytes);
      assert.ok('problem' in result, 'expected a problem');
      assert.match(result.problem, message);
    });
  }

  it('decodes a batch, a bad item failing alone', () => {
    const good = encodeMany({ tasks: [{ taskToken: 'a' }, { taskToken: 'b', details: 'x' }] });
    const badItem = Buffer.from([0x0a, 0x04, 0x0a, 0x02, 0xc3, 0x28]);
    const { tasks, problem } = decodeFailBatchRequest(Buffer.concat([good, badItem]));
    assert.equal(problem, undefined);
    assert.equal(tasks.length, 3);
    assert.equal(decoded(tasks[1]!).details, 'x');
    assert.ok('problem' in tasks[2]!);
    const broken = decodeFailBatchRequest(Buffer.from([0x0a, 0x09, 0x0a]));
    assert.match(broken.problem ?? '', /not a valid FailActivityTasksRequest/);
  });

  it('copies the text out of the message buffer, so a report does not pin the whole message', () => {
    const message = encodeOne({ taskToken: 't', details: 'd'.repeat(100) });
    const { report } = decoded(decodeFailRequest(message));
    message.fill(0);
    assert.equal(report.details, 'd'.repeat(100));
  });
});

describe('response encoder', () => {
  it('writes the bytes protobufjs writes', () => {
    const outcomes = ['OUTCOME_UNSPECIFIED', 'OUTCOME_DELIVERED', 'OUTCOME_QUEUED'] as const;
    for (const outcome of outcomes) {
      for (const attempts of [0, 1, 127, 128, 300, 2 ** 32 - 1]) {
        const response = { outcome, attempts };
        assert.deepEqual(
          encodeFailResponse(response),
          service['FailActivityTask']!.responseSerialize(response),
          JSON.stringify(response),
        );
      }
    }
  });
});
