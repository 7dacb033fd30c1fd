import { status, type sendUnaryData, type ServerUnaryCall, type UntypedHandleCall } from '@grpc/grpc-js';
import type { Clock } from '../clock.js';
import type { SidecarMetrics } from '../metrics.js';
import { toCallStatus, toServiceError } from './status-codes.js';
import type { AnyUnaryMethod } from './unary-method.js';

/**
 * The standard grpc_server_* metrics of one unary method (the names of go-grpc-prometheus, which
 * dashboards expect), whichever transport path serves the call.
 */
export class CallInstruments {
  private readonly started: { inc(): void };
  private readonly handlingSeconds: { observe(value: number): void };
  private readonly handledByCode = new Map<status, { inc(): void }>();
  private readonly labels: Readonly<Record<'grpc_type' | 'grpc_service' | 'grpc_method', string>>;

  constructor(
    serviceName: string,
    methodName: string,
    private readonly metrics: SidecarMetrics,
    private readonly clock: Clock,
  ) {
    this.labels = { grpc_type: 'unary', grpc_service: serviceName, grpc_method: methodName };
    // Label children bound once (hot-path metrics: an inc is a number add).
    this.started = metrics.grpcStarted.labels(this.labels);
    this.handlingSeconds = metrics.grpcHandlingSeconds.labels(this.labels);
  }

  /** A call started; returns its start time for `end`. */
  begin(): number {
    this.metrics.markBusy();
    this.started.inc();
    return this.clock.now();
  }

  /** The call ended with `code`, the status its caller saw. */
  end(code: status, startedAtMs: number): void {
    let handled = this.handledByCode.get(code);
    if (handled === undefined) {
      handled = this.metrics.grpcHandled.labels({ ...this.labels, grpc_code: status[code] ?? String(code) });
      this.handledByCode.set(code, handled);
    }
    handled.inc();
    this.handlingSeconds.observe((this.clock.now() - startedAtMs) / 1000);
  }
}

/**
 * `method` as a grpc-js handler, instrumented. A call the client cancelled or let expire is
 * counted with the code the client saw, not the one the handler produced later.
 */
export function grpcJsUnaryHandler(method: AnyUnaryMethod, instruments: CallInstruments): UntypedHandleCall {
  return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
    const startedAtMs = instruments.begin();
    method.handle(call.request).then(
      (response: unknown) => {
        instruments.end(codeTheClientSaw(call) ?? status.OK, startedAtMs);
        callback(null, response);
      },
      (error: unknown) => {
        instruments.end(codeTheClientSaw(call) ?? toCallStatus(error).code, startedAtMs);
        callback(toServiceError(error));
      },
    );
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
