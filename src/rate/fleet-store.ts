/**
 * The port behind which the fleet's shared budget lives (Redis in production: redis-fleet-store.ts).
 * One call does everything a sidecar needs from the fleet, so a lease costs one round trip: it
 * takes permits, gives back the ones a sidecar no longer needs, and reports the SWF answers seen
 * since the last call so that the fleet's send rate follows throttling (see fleet-lease-script.ts).
 */
export interface LeaseRequest {
  /** Permits wanted now (0: only report and return). */
  readonly requested: number;
  /** Unused permits handed back to the fleet's bucket. */
  readonly returned: number;
  /** SWF answers (anything but transport errors) since the last successful call. */
  readonly answers: number;
  /** How many of them were ThrottlingException. */
  readonly throttled: number;
  /** When this sidecar leases next, in ms: Redis sums these to count the sidecars sharing. */
  readonly intervalMs: number;
}

export interface LeaseReply {
  /** Permits this sidecar may now spend (0..requested). */
  readonly granted: number;
  /** The fleet's current send rate, lowered by throttling anywhere in the fleet. */
  readonly fleetRatePerSecond: number;
  /** Permits left in the fleet's bucket after this call (may be below 0 after a drain). */
  readonly fleetTokens: number;
  /** The store had no state for the key (first use, expiry, or Redis restarted empty). */
  readonly fresh: boolean;
  /** Sidecars that leased permits in the fleet's last whole second (how many share the budget). */
  readonly sidecarsSharing: number;
}

export interface FleetStore {
  /** One atomic lease; rejects when the store cannot be reached or fails. */
  lease(request: LeaseRequest): Promise<LeaseReply>;
  /** Closes connections; later leases reject. Idempotent. */
  close(): Promise<void>;
}

/** Why the store failed, for metrics and the one log line per outage. */
export type FleetStoreErrorKind = 'timeout' | 'connection' | 'auth' | 'other';

/** Classifies an error from the Redis client by its message and code (pure). */
export function classifyFleetStoreError(error: unknown): FleetStoreErrorKind {
  const message = error instanceof Error ? error.message : String(error);
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  if (/WRONGPASS|NOAUTH|NOPERM|invalid username-password|AUTH/i.test(message)) return 'auth';
  if (/timed? ?out/i.test(message) || code === 'ETIMEDOUT') return 'timeout';
  if (
    /^E[A-Z]+$/.test(code) ||
    /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENOTFOUND|EPIPE|Connection is closed|Stream isn't writeable|not connected|certificate|SSL|TLS/i.test(
      message,
    )
  ) {
    return 'connection';
  }
  return 'other';
}
