import { isAscii, isUtf8 } from 'node:buffer';
import { CompactReport } from '../delivery/compact-report.js';
import { TextSlabs } from '../delivery/text-slabs.js';
import type { WireDelivery } from './contract.js';

/** A FailActivityTaskRequest as the handlers get it: decoded, or what is wrong with it. */
export type DecodedRequest =
  { readonly report: CompactReport; readonly delivery: WireDelivery | number } | { readonly problem: string };

export interface DecodedBatchRequest {
  readonly tasks: readonly DecodedRequest[];
  /** Set when the batch itself could not be read. */
  readonly problem?: string;
}

/** The reports' texts, off the V8 heap, a few dozen to a slab. */
const REPORT_TEXT = new TextSlabs();

const DELIVERY_NAMES: readonly WireDelivery[] = ['DELIVERY_UNSPECIFIED', 'DELIVERY_CONFIRMED', 'DELIVERY_QUEUED'];

/**
 * The request decoder of the two ActivityTasks methods, written for the contract's two small
 * messages instead of protobufjs's generic one, because it:
 * - never lets a bad message through: a length past the end, a wrong wire type for a known
 *   field or invalid UTF-8 in a string is a clear INVALID_ARGUMENT (protobufjs cut such strings
 *   short, or replaced bad bytes with U+FFFD, and forwarded them);
 * - keeps reason and details as bytes off the V8 heap (CompactReport), counting their length in
 *   UTF-16 code units on the way without building the strings;
 * - never throws, so grpc-js never answers a bad message with a bare INTERNAL.
 * Unknown fields are skipped, as proto3 requires. For a field sent twice, the last one wins.
 */
export function decodeFailRequest(bytes: Buffer): DecodedRequest {
  try {
    return readFailRequest(bytes, 0, bytes.length);
  } catch (error) {
    return { problem: notValid('FailActivityTaskRequest', error) };
  }
}

export function decodeFailBatchRequest(bytes: Buffer): DecodedBatchRequest {
  const tasks: DecodedRequest[] = [];
  try {
    const reader = new WireReader(bytes, 0, bytes.length);
    while (!reader.done) {
      const { field, wireType } = reader.tag();
      if (field === 1) {
        expectWireType('tasks', wireType, 2);
        const { start, end } = reader.lengthDelimited();
        try {
          tasks.push(readFailRequest(bytes, start, end));
        } catch (error) {
          tasks.push({ problem: notValid('FailActivityTaskRequest', error) });
        }
      } else {
        reader.skip(wireType);
      }
    }
    return { tasks };
  } catch (error) {
    return { tasks, problem: notValid('FailActivityTasksRequest', error) };
  }
}

function readFailRequest(bytes: Buffer, start: number, end: number): DecodedRequest {
  const reader = new WireReader(bytes, start, end);
  let token: [number, number] | undefined;
  let reason: [number, number] | undefined;
  let details: [number, number] | undefined;
  let reasonAscii = false;
  let detailsAscii = false;
  let delivery = 0;
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    switch (field) {
      case 1:
      case 2:
      case 3: {
        expectWireType(FIELD_NAMES[field], wireType, 2);
        const { start: s, end: e } = reader.lengthDelimited();
        // ASCII (nearly every report) is valid UTF-8 with one UTF-16 unit a byte: one SIMD pass.
        const value = bytes.subarray(s, e);
        const ascii = isAscii(value);
        if (!ascii && !isUtf8(value)) {
          return { problem: `${FIELD_NAMES[field]} is not valid UTF-8` };
        }
        if (field === 1) {
          token = [s, e];
        } else if (field === 2) {
          reason = [s, e];
          reasonAscii = ascii;
        } else {
          details = [s, e];
          detailsAscii = ascii;
        }
        break;
      }
      case 4:
        expectWireType('delivery', wireType, 0);
        delivery = reader.varint();
        break;
      default:
        reader.skip(wireType);
    }
  }
  const reasonBytes = reason === undefined ? -1 : reason[1] - reason[0];
  const detailsBytes = details === undefined ? -1 : details[1] - details[0];
  // Not from Node's shared 8 KB pool: a slice of it would keep the whole pool alive, with whatever
  // transient buffers share it, for as long as the report waits (measured: 4.9 KB a report).
  const text = REPORT_TEXT.allocate(Math.max(0, reasonBytes) + Math.max(0, detailsBytes));
  if (reason !== undefined) bytes.copy(text, 0, reason[0], reason[1]);
  if (details !== undefined) bytes.copy(text, Math.max(0, reasonBytes), details[0], details[1]);
  const report = new CompactReport(
    token === undefined ? '' : bytes.toString('utf8', token[0], token[1]),
    text,
    reasonBytes,
    detailsBytes,
    reason === undefined ? -1 : reasonAscii ? reasonBytes : utf16Length(bytes, reason[0], reason[1]),
    details === undefined ? -1 : detailsAscii ? detailsBytes : utf16Length(bytes, details[0], details[1]),
  );
  return { report, delivery: DELIVERY_NAMES[delivery] ?? delivery };
}

const FIELD_NAMES: Record<number, string> = { 1: 'task_token', 2: 'reason', 3: 'details' };

/** UTF-16 code units of valid UTF-8: one per character, two for a 4-byte sequence. */
function utf16Length(bytes: Buffer, start: number, end: number): number {
  let length = 0;
  for (let i = start; i < end; i += 1) {
    const byte = bytes[i]!;
    if ((byte & 0xc0) !== 0x80) length += byte >= 0xf0 ? 2 : 1;
  }
  return length;
}

function expectWireType(field: string | undefined, got: number, expected: number): void {
  if (got !== expected) throw new Error(`${field ?? 'a field'} has wire type ${got}, expected ${expected}`);
}

function notValid(message: string, error: unknown): string {
  return `the request is not a valid ${message}: ${error instanceof Error ? error.message : String(error)}`;
}

/** Protobuf wire format, read with bounds checks on every step. */
class WireReader {
  constructor(
    private readonly bytes: Buffer,
    private position: number,
    private readonly end: number,
  ) {}

  get done(): boolean {
    return this.position >= this.end;
  }

  tag(): { field: number; wireType: number } {
    const key = this.varint();
    const field = Math.floor(key / 8);
    if (field === 0) throw new Error('field number 0');
    return { field, wireType: key % 8 };
  }

  /** An unsigned varint up to 2^53; longer ones are refused (no field here needs more). */
  varint(): number {
    let value = 0;
    for (let shift = 0; shift < 53; shift += 7) {
      if (this.position >= this.end) throw new Error('a varint runs past the end');
      const byte = this.bytes[this.position++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    throw new Error('a varint is too long');
  }

  lengthDelimited(): { start: number; end: number } {
    const length = this.varint();
    const start = this.position;
    if (length > this.end - start) throw new Error(`a length of ${length} runs past the end`);
    this.position = start + length;
    return { start, end: this.position };
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.lengthDelimited();
        return;
      case 5:
        this.advance(4);
        return;
      default:
        throw new Error(`unsupported wire type ${wireType}`);
    }
  }

  private advance(count: number): void {
    if (count > this.end - this.position) throw new Error('a field runs past the end');
    this.position += count;
  }
}
