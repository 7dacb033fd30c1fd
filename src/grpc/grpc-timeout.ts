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

/** The grpc-timeout header a client sends for a deadline `ms` from now: at most 8 digits and a unit. */
export function formatGrpcTimeout(ms: number): string {
  const whole = Math.max(1, Math.ceil(ms));
  if (whole < 1e8) return `${whole}m`;
  const seconds = Math.ceil(whole / 1000);
  if (seconds < 1e8) return `${seconds}S`;
  return `${Math.min(99_999_999, Math.ceil(seconds / 3600))}H`;
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
