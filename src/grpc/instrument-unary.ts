import { status, type sendUnaryData, type ServerUnaryCall, type UntypedHandleCall } from '@grpc/grpc-js';
import type { Clock } from '../clock.js';
import type { SidecarMetrics } from '../metrics.js';

/**
 * Wraps a unary handler with the standard grpc_server_* metrics (the names of
 * go-grpc-prometheus, which dashboards expect). A call the client cancelled or let expire is
 * counted with the code the client saw, not the one the handler produced later.
 */
export function instrumentUnary<Req, Res>(
  serviceName: string,
  methodName: string,
  handler: (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void,
  metrics: SidecarMetrics,
  clock: Clock,
): UntypedHandleCall {
  const labels = { grpc_type: 'unary', grpc_service: serviceName, grpc_method: methodName };
  // Label children bound once: prom-client hashes a label object on every inc/observe otherwise.
  const started = metrics.grpcStarted.labels(labels);
  const handlingSeconds = metrics.grpcHandlingSeconds.labels(labels);
  const handledByCode = new Map<status, { inc(): void }>();
  const handled = (code: status): { inc(): void } => {
    let child = handledByCode.get(code);
    if (child === undefined) {
      child = metrics.grpcHandled.labels({ ...labels, grpc_code: status[code] ?? String(code) });
      handledByCode.set(code, child);
    }
    return child;
  };
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    const startedAtMs = clock.now();
    metrics.markBusy();
    started.inc();
    handler(call, (error, value, trailer, flags) => {
      handled(codeTheClientSaw(call) ?? error?.code ?? status.OK).inc();
      handlingSeconds.observe((clock.now() - startedAtMs) / 1000);
      callback(error, value, trailer, flags);
    });
  };
}

/**
 * grpc-js answers an expired call with DEADLINE_EXCEEDED on its own (without marking it
 * cancelled) and a cancelled one with CANCELLED; a handler finishing later changes neither.
 * Wall-clock on purpose: gRPC deadlines are wall-clock dates.
 */
function codeTheClientSaw(call: ServerUnaryCall<unknown, unknown>): status | undefined {
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  if (Number.isFinite(deadlineMs) && deadlineMs <= Date.now()) return status.DEADLINE_EXCEEDED;
  return call.cancelled ? status.CANCELLED : undefined;
}
