/**
 * How many fleet permits a sidecar leases, and how often, as pure data (time passed in).
 *
 * - **Size:** enough for this sidecar's recent demand until a little past its next lease. One
 *   that had enough asks for what it used, with half again of headroom. One that ran out
 *   (starved) asks for its fair share of the fleet's rate: the rate divided by the sidecars
 *   leasing, which Redis counts (fleet-lease-script.ts). Taking whatever the bucket holds
 *   instead would share the budget by chance, and unevenly. When the last reply
 *   showed permits to spare in the fleet's bucket, a starved sidecar asks for its ceiling's worth.
 *   A starved sidecar never asks for more than the reports it has waiting (its backlog): near
 *   the end of a backlog, permits taken beyond it would sit in its pool until its next lease
 *   while other sidecars starve. Never more than its burst or the fleet's burst.
 * - **Interval:** while the sidecar has enough permits, long enough that a lease carries about
 *   `permitsPerLease` (20) permits at the rate the fleet has been granting it, so Redis sees at
 *   most about one command per 20 SWF calls; between `minIntervalMs` (100) and `maxIntervalMs`
 *   (1000). A sidecar sending fewer than 20 calls a second therefore leases once a second.
 * - **Starved** (the fleet's budget, not demand, is the limit): at the pace of its fair share,
 *   whatever it got last time: long enough for `starvedPermitsPerLease` (10) permits of the fair
 *   share, between `starvedIntervalMs` (500) and `maxStarvedIntervalMs` (5000). All starved
 *   sidecars then lease at one pace and get the same share on average (an interval that shrank
 *   with the grants would let those that got most lease most often and take ever more), and a
 *   large fleet does not lease faster than its permits come: 1,000 sidecars sharing 200/s lease
 *   200 times a second, not 2,000.
 * - **Stranding:** a sidecar holding more than twice what it needs gives the excess back on its
 *   next lease, and one that used nothing and wanted nothing since its last lease (idle) gives
 *   back everything and stops leasing until asked again.
 */
export interface LeasePlannerOptions {
  /** This sidecar's own ceiling (SWF_SIDECAR_RATE_PER_SECOND and SWF_SIDECAR_BURST). */
  readonly localRatePerSecond: number;
  readonly localBurst: number;
  /** The whole fleet's (SWF_SIDECAR_FLEET_RATE_PER_SECOND and SWF_SIDECAR_FLEET_BURST). */
  readonly fleetRatePerSecond: number;
  readonly fleetBurst: number;
  readonly permitsPerLease?: number;
  readonly minIntervalMs?: number;
  readonly maxIntervalMs?: number;
  readonly starvedIntervalMs?: number;
  readonly maxStarvedIntervalMs?: number;
  readonly starvedPermitsPerLease?: number;
}

/** What happened since the last lease. */
export interface LeaseDemand {
  readonly nowMs: number;
  /** Permits held now. */
  readonly pool: number;
  /** Permits handed out since the last lease. */
  readonly consumed: number;
  /** Whether the dispatcher wanted more than the pool held since the last lease. */
  readonly starved: boolean;
  /** Reports waiting at the dispatcher now, when the limiter knows (it always does in the sidecar). */
  readonly backlog?: number;
  /** What the last reply said of the fleet, if there was one. */
  readonly fleet?: {
    readonly ratePerSecond: number;
    readonly sidecarsSharing: number;
    /** The fleet's bucket held at least a lease's worth after the last reply. */
    readonly spare: boolean;
  };
  /**
   * The next interval is the planned one times this (default 1): the caller's random jitter,
   * known before the lease so that its size matches the time it must last.
   */
  readonly jitter?: number;
}

export interface LeasePlan {
  readonly requested: number;
  readonly returned: number;
  /** Nothing used, nothing wanted: lease again only when asked (or for the idle heartbeat). */
  readonly idle: boolean;
  /** Demand exceeded the permits held: lease at the starved pace, spend the lease evenly. */
  readonly starved: boolean;
  /** When to lease next (unless idle), in ms from now. */
  readonly intervalMs: number;
}

/** Headroom over the demand while not starved, so a growing load is not always one lease behind. */
const HEADROOM = 1.5;
/** The pool should last this much past the next lease (its round trip, a late timer). */
const HORIZON_FACTOR = 1.25;
/** Weight of the newest sample in the granted-rate average. */
const GRANT_RATE_WEIGHT = 0.5;

export class LeasePlanner {
  private readonly options: Required<LeasePlannerOptions>;
  /** Permits per second the fleet has been granting this sidecar (a moving average). */
  private grantRate: number;
  private lastLeaseAtMs: number | undefined;
  private lastGrantAtMs: number | undefined;

  constructor(options: LeasePlannerOptions) {
    this.options = {
      permitsPerLease: 20,
      minIntervalMs: 100,
      maxIntervalMs: 1000,
      starvedIntervalMs: 500,
      maxStarvedIntervalMs: 5000,
      starvedPermitsPerLease: 10,
      ...options,
    };
    // Optimistic at first: short intervals until the grants say how much this sidecar gets.
    this.grantRate = Math.min(options.fleetRatePerSecond, options.localRatePerSecond);
  }

  /** The lease to send now. */
  plan(demand: LeaseDemand): LeasePlan {
    const pool = Math.max(0, Math.floor(demand.pool));
    const elapsedMs =
      this.lastLeaseAtMs === undefined ? this.intervalMs() : Math.max(50, demand.nowMs - this.lastLeaseAtMs);
    this.lastLeaseAtMs = demand.nowMs;
    const intervalMs = this.intervalMs(demand.starved, demand.fleet) * (demand.jitter ?? 1);
    if (demand.consumed === 0 && !demand.starved) {
      return { requested: 0, returned: pool, idle: true, starved: false, intervalMs };
    }
    const { localRatePerSecond, localBurst, fleetBurst } = this.options;
    const demandRate = demand.starved
      ? localRatePerSecond
      : Math.min(localRatePerSecond, ((demand.consumed * 1000) / elapsedMs) * HEADROOM);
    const horizonMs = intervalMs * HORIZON_FACTOR;
    let wanted = (demandRate * horizonMs) / 1000;
    const fleet = demand.fleet;
    if (demand.starved && fleet !== undefined && !fleet.spare) {
      wanted = Math.min(wanted, this.fairShareRate(fleet) * (horizonMs / 1000));
    }
    if (demand.starved && demand.backlog !== undefined) wanted = Math.min(wanted, demand.backlog);
    const target = Math.max(1, Math.min(localBurst, fleetBurst, Math.ceil(wanted)));
    return {
      requested: Math.max(0, target - pool),
      returned: pool > 2 * target ? pool - target : 0,
      idle: false,
      starved: demand.starved,
      intervalMs,
    };
  }

  /** The fleet granted `granted` permits at `nowMs`. */
  onGranted(granted: number, nowMs: number): void {
    const elapsedMs = this.lastGrantAtMs === undefined ? this.intervalMs() : nowMs - this.lastGrantAtMs;
    this.lastGrantAtMs = nowMs;
    if (elapsedMs <= 0) return;
    const sample = (granted * 1000) / elapsedMs;
    this.grantRate = this.grantRate * (1 - GRANT_RATE_WEIGHT) + sample * GRANT_RATE_WEIGHT;
  }

  /** After an idle spell, the next lease's elapsed time says nothing about the rate. */
  resetTiming(): void {
    this.lastGrantAtMs = undefined;
    this.lastLeaseAtMs = undefined;
  }

  /** This sidecar's fair share of the fleet's rate: the rate divided by the sidecars leasing (at least 1). */
  fairShareRate(fleet: { readonly ratePerSecond: number; readonly sidecarsSharing: number }): number {
    return fleet.ratePerSecond / Math.max(1, fleet.sidecarsSharing);
  }

  /** Milliseconds from one lease to the next while busy (before jitter). */
  intervalMs(starved = false, fleet?: { readonly ratePerSecond: number; readonly sidecarsSharing: number }): number {
    const { permitsPerLease, minIntervalMs, maxIntervalMs } = this.options;
    if (starved) {
      const { starvedIntervalMs, maxStarvedIntervalMs, starvedPermitsPerLease } = this.options;
      const fair = fleet === undefined ? Number.POSITIVE_INFINITY : this.fairShareRate(fleet);
      return Math.min(maxStarvedIntervalMs, Math.max(starvedIntervalMs, (starvedPermitsPerLease * 1000) / fair));
    }
    if (this.grantRate <= 0) return maxIntervalMs;
    return Math.min(maxIntervalMs, Math.max(minIntervalMs, (permitsPerLease * 1000) / this.grantRate));
  }

  /** Permits per second the fleet has been granting this sidecar (a moving average over leases). */
  get grantRatePerSecond(): number {
    return this.grantRate;
  }

  get permitsPerLease(): number {
    return this.options.permitsPerLease;
  }

  get minIntervalMs(): number {
    return this.options.minIntervalMs;
  }
}
