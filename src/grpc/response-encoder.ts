import type { WireFailResponse } from './contract.js';

const OUTCOME_NUMBERS: Record<WireFailResponse['outcome'], number> = {
  OUTCOME_UNSPECIFIED: 0,
  OUTCOME_DELIVERED: 1,
  OUTCOME_QUEUED: 2,
};

/** The answer most calls get (QUEUED, 0 attempts): encoded once. */
const QUEUED_RESPONSE = Buffer.from([0x08, 0x02, 0x10, 0x00]);

/**
 * FailActivityTaskResponse by hand: two varint fields, on the hot path of every call, where
 * protobufjs's generic encoder built a writer, a fork and a buffer each time. Byte for byte what
 * protobufjs writes (both fields, even at their defaults), checked in
 * test/grpc/request-decoder.test.ts.
 */
export function encodeFailResponse(response: WireFailResponse): Buffer {
  const outcome = OUTCOME_NUMBERS[response.outcome];
  if (outcome === 2 && response.attempts === 0) return QUEUED_RESPONSE;
  const bytes: number[] = [0x08, outcome, 0x10];
  for (let value = response.attempts >>> 0; ; value = Math.floor(value / 128)) {
    if (value < 0x80) {
      bytes.push(value);
      break;
    }
    bytes.push((value & 0x7f) | 0x80);
  }
  return Buffer.from(bytes);
}
