import { status } from '@grpc/grpc-js';
import type { ServiceDefinition } from '@grpc/proto-loader';
import type { DeliveryService } from '../delivery/delivery-service.js';
import type { DeliveryMode, FailureReport, SubmitResult } from '../delivery/failure-report.js';
import { SidecarError } from '../errors.js';
import type { SidecarMetrics } from '../metrics.js';
import type { WireFailBatchResponse, WireFailResponse, WireFailResult } from './contract.js';
import {
  decodeFailBatchRequest,
  decodeFailRequest,
  type DecodedBatchRequest,
  type DecodedRequest,
} from './request-decoder.js';
import { encodeFailResponse } from './response-encoder.js';
import { toCallStatus } from './status-codes.js';
import type { AnyUnaryMethod, UnaryMethod } from './unary-method.js';

export interface HandlerOptions {
  readonly defaultDelivery: DeliveryMode;
  readonly maxBatchRequestItems: number;
}

/** Maps the decoded request onto a report and a delivery mode, or says what is wrong with it. */
export function fromWire(
  request: DecodedRequest,
  defaultDelivery: DeliveryMode,
): { report: FailureReport; mode: DeliveryMode } | SidecarError {
  if ('problem' in request) return new SidecarError('invalid-argument', request.problem);
  let mode: DeliveryMode;
  switch (request.delivery) {
    case undefined:
    case 'DELIVERY_UNSPECIFIED':
      mode = defaultDelivery;
      break;
    case 'DELIVERY_CONFIRMED':
      mode = 'confirmed';
      break;
    case 'DELIVERY_QUEUED':
      mode = 'queued';
      break;
    default:
      return new SidecarError(
        'invalid-argument',
        `delivery ${String(request.delivery)} is not a known Delivery value (0 UNSPECIFIED, 1 CONFIRMED, 2 QUEUED)`,
      );
  }
  return { report: request.report, mode };
}

/** The answer of every accepted QUEUED report. */
const QUEUED_ON_THE_WIRE: WireFailResponse = Object.freeze({ outcome: 'OUTCOME_QUEUED', attempts: 0 });

function toWire(result: SubmitResult): WireFailResponse {
  if (result.outcome === 'queued' && result.attempts === 0) return QUEUED_ON_THE_WIRE;
  return {
    outcome: result.outcome === 'delivered' ? 'OUTCOME_DELIVERED' : 'OUTCOME_QUEUED',
    attempts: result.attempts,
  };
}

/**
 * The ActivityTasks service: the edge between gRPC and the DeliveryService. Requests are read by
 * the contract-specific decoder (request-decoder.ts); FailActivityTask's two-field response is
 * written by hand (response-encoder.ts) and the batch response by proto-loader, from `service`.
 */
export function createActivityTasksMethods(
  service: DeliveryService,
  options: HandlerOptions,
  metrics: SidecarMetrics,
  definition: ServiceDefinition,
): readonly AnyUnaryMethod[] {
  const submitOne = async (request: DecodedRequest): Promise<SubmitResult> => {
    const parsed = fromWire(request, options.defaultDelivery);
    if (parsed instanceof SidecarError) {
      metrics.rejections.inc({ reason: 'invalid_argument' });
      throw parsed;
    }
    return service.submit(parsed.report, parsed.mode);
  };
  const encodeBatchResponse = definition['FailActivityTasks']?.responseSerialize;
  if (encodeBatchResponse === undefined) throw new Error('FailActivityTasks is missing from the loaded contract');

  const failOne: UnaryMethod<DecodedRequest, WireFailResponse> = {
    name: 'FailActivityTask',
    decode: decodeFailRequest,
    encode: encodeFailResponse,
    handle: async (request) => toWire(await submitOne(request)),
  };

  const failBatch: UnaryMethod<DecodedBatchRequest, WireFailBatchResponse> = {
    name: 'FailActivityTasks',
    decode: decodeFailBatchRequest,
    encode: (response) => encodeBatchResponse(response),
    handle: async ({ tasks, problem }) => {
      if (problem !== undefined) {
        metrics.rejections.inc({ reason: 'invalid_batch' });
        throw new SidecarError('invalid-argument', problem);
      }
      if (tasks.length === 0 || tasks.length > options.maxBatchRequestItems) {
        metrics.rejections.inc({ reason: 'invalid_batch' });
        throw new SidecarError(
          'invalid-argument',
          `tasks has ${tasks.length} items; a batch takes 1 to ${options.maxBatchRequestItems}`,
        );
      }
      return { results: await Promise.all(tasks.map((task) => submitOne(task).then(okResult, errorResult))) };
    },
  };
  return [failOne, failBatch];
}

function okResult(result: SubmitResult): WireFailResult {
  return { code: status.OK, message: '', ...toWire(result) };
}

function errorResult(error: unknown): WireFailResult {
  const { code, details } = toCallStatus(error);
  return { code, message: details, outcome: 'OUTCOME_UNSPECIFIED', attempts: 0 };
}
