import type { WireDelivery, WireFailRequest, WireFailResponse, WireOutcome } from '../grpc/contract.js';

/**
 * The protobuf wire form of the one call the CLI makes, written out by hand so that the CLI
 * starts without @grpc/proto-loader and protobufjs (about 40 ms of its start; its wall time is
 * graded against the AWS CLI's, see sidecar-call.ts). proto/swfsidecar/v1/sidecar.proto stays
 * the source of truth: test/cli/fail-request-codec.test.ts checks these bytes against the loaded
 * contract (src/grpc/contract.ts), so a change there that this file misses fails the tests.
 */
export const FAIL_ACTIVITY_TASK_PATH = '/swfsidecar.v1.ActivityTasks/FailActivityTask';

const DELIVERY_NUMBERS: Readonly<Record<WireDelivery, number>> = {
  DELIVERY_UNSPECIFIED: 0,
  DELIVERY_CONFIRMED: 1,
  DELIVERY_QUEUED: 2,
};
const OUTCOME_NAMES: readonly WireOutcome[] = ['OUTCOME_UNSPECIFIED', 'OUTCOME_DELIVERED', 'OUTCOME_QUEUED'];

const WIRE_VARINT = 0;
const WIRE_64BIT = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_32BIT = 5;

/** FailActivityTaskRequest: 1 task_token, 2 optional reason, 3 optional details, 4 delivery. */
export function encodeFailRequest(request: WireFailRequest): Buffer {
  const parts: Buffer[] = [];
  const string = (field: number, value: string | undefined): void => {
    if (value === undefined) return;
    const bytes = Buffer.from(value, 'utf8');
    parts.push(varint((field << 3) | WIRE_LENGTH_DELIMITED), varint(bytes.length), bytes);
  };
  string(1, request.taskToken);
  string(2, request.reason);
  string(3, request.details);
  if (request.delivery !== undefined) {
    const number = typeof request.delivery === 'number' ? request.delivery : DELIVERY_NUMBERS[request.delivery];
    if (!Number.isInteger(number) || number < 0) throw new RangeError(`delivery ${request.delivery} cannot be encoded`);
    parts.push(varint((4 << 3) | WIRE_VARINT), varint(number));
  }
  return Buffer.concat(parts);
}

/** FailActivityTaskResponse: 1 outcome, 2 attempts. Unknown fields (added later) are skipped. */
export function decodeFailResponse(buffer: Buffer): WireFailResponse {
  const response: WireFailResponse = { outcome: 'OUTCOME_UNSPECIFIED', attempts: 0 };
  let offset = 0;
  const readVarint = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = buffer[offset++];
      if (byte === undefined || shift > 63) throw new Error('malformed FailActivityTaskResponse: truncated varint');
      // Values above 2^53 lose precision; this message holds none.
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  while (offset < buffer.length) {
    const key = readVarint();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (wireType === WIRE_VARINT) {
      const value = readVarint();
      if (field === 1) response.outcome = OUTCOME_NAMES[value] ?? 'OUTCOME_UNSPECIFIED';
      else if (field === 2) response.attempts = value % 2 ** 32;
    } else if (wireType === WIRE_LENGTH_DELIMITED) {
      const length = readVarint(); // before `offset +=`, which would read offset first
      offset += length;
    } else if (wireType === WIRE_64BIT) offset += 8;
    else if (wireType === WIRE_32BIT) offset += 4;
    else throw new Error(`malformed FailActivityTaskResponse: wire type ${wireType}`);
  }
  if (offset > buffer.length) throw new Error('malformed FailActivityTaskResponse: truncated field');
  return response;
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}
