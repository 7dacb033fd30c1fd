import type { sendUnaryData, ServerUnaryCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import type { DeliveryService } from '../delivery/delivery-service.js';
import type { DeliveryMode, FailureReport, SubmitResult } from '../delivery/failure-report.js';
import { SidecarError } from '../errors.js';
import type { SidecarMetrics } from '../metrics.js';
import type { WireFailBatchResponse, WireFailResponse, WireFailResult } from './contract.js';
import type { DecodedBatchRequest, DecodedRequest } from './request-decoder.js';
import { toServiceError } from './status-codes.js';

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

function toWire(result: SubmitResult): WireFailResponse {
  return {
    outcome: result.outcome === 'delivered' ? 'OUTCOME_DELIVERED' : 'OUTCOME_QUEUED',
    attempts: result.attempts,
  };
}

/** The ActivityTasks service: the edge between gRPC and the DeliveryService. */
export function createActivityTasksHandlers(
  service: DeliveryService,
  options: HandlerOptions,
  metrics: SidecarMetrics,
): UntypedServiceImplementation {
  const submitOne = async (request: DecodedRequest): Promise<SubmitResult> => {
    const parsed = fromWire(request, options.defaultDelivery);
    if (parsed instanceof SidecarError) {
      metrics.rejections.inc({ reason: 'invalid_argument' });
      throw parsed;
    }
    return service.submit(parsed.report, parsed.mode);
  };

  return {
    FailActivityTask(
      call: ServerUnaryCall<DecodedRequest, WireFailResponse>,
      callback: sendUnaryData<WireFailResponse>,
    ): void {
      submitOne(call.request).then(
        (result) => callback(null, toWire(result)),
        (error: unknown) => callback(toServiceError(error)),
      );
    },

    FailActivityTasks(
      call: ServerUnaryCall<DecodedBatchRequest, WireFailBatchResponse>,
      callback: sendUnaryData<WireFailBatchResponse>,
    ): void {
      const { tasks, problem } = call.request;
      if (problem !== undefined) {
        metrics.rejections.inc({ reason: 'invalid_batch' });
        callback({ code: status.INVALID_ARGUMENT, details: problem });
        return;
      }
      if (tasks.length === 0 || tasks.length > options.maxBatchRequestItems) {
        metrics.rejections.inc({ reason: 'invalid_batch' });
        callback({
          code: status.INVALID_ARGUMENT,
          details: `tasks has ${tasks.length} items; a batch takes 1 to ${options.maxBatchRequestItems}`,
        });
        return;
      }
      Promise.all(tasks.map((task) => submitOne(task).then(okResult, errorResult))).then(
        (results) => callback(null, { results }),
        (error: unknown) => callback(toServiceError(error)),
      );
    },
  };
}

function okResult(result: SubmitResult): WireFailResult {
  return { code: status.OK, message: '', ...toWire(result) };
}

function errorResult(error: unknown): WireFailResult {
  const serviceError = toServiceError(error);
  return {
    code: serviceError.code ?? status.UNKNOWN,
    message: serviceError.details ?? '',
    outcome: 'OUTCOME_UNSPECIFIED',
    attempts: 0,
  };
}
