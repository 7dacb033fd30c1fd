const MS_PER_UNIT: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1_000,
  m: 1,
  u: 0.001,
  n: 0.000001,
};
const GRPC_TIMEOUT = /^(\d{1,8})([HMSmun])$/;

/**
 * The `grpc-timeout` request header (gRPC over HTTP/2: at most 8 digits and a unit) in
 * milliseconds, or undefined when it is not one.
 */
export function parseGrpcTimeout(value: string): number | undefined {
  const match = GRPC_TIMEOUT.exec(value);
  if (match === null) return undefined;
  return Number(match[1]) * (MS_PER_UNIT[match[2]!] ?? Number.NaN);
}

/** setTimeout's limit: Node fires a longer delay at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * How long to arm the timer that ends a call at its deadline; undefined when the deadline lies
 * past what a timer can hold (24.8 days), which for a unary call is as good as none.
 */
export function deadlineTimerMs(timeoutMs: number): number | undefined {
  return timeoutMs > MAX_TIMER_MS ? undefined : timeoutMs;
}
