import type { Clock, RandomSource, TimerHandle } from '../clock.js';
import type { Logger } from '../logger.js';
import type { FleetMetrics } from '../metrics.js';
import { classifyFleetStoreError, type FleetStore, type LeaseReply } from './fleet-store.js';
import { type LeasePlan, LeasePlanner } from './lease-planner.js';
import type { LimiterClient, RateLimiter } from './rate-limiter.js';
import { TokenBucket } from './token-bucket.js';

export interface FleetRateLimiterOptions {
  readonly fleetRatePerSecond: number;
  readonly fleetBurst: number;
  /** This sidecar's ceiling, and its whole limit while Redis cannot be reached. */
  readonly localRatePerSecond: number;
  readonly localBurst: number;
  /** Where the budget lives, for log lines: the redacted Redis URL and the fleet key. */
  readonly describe: { readonly redis: string; readonly fleetKey: string };
  /** A lease unanswered this long has failed: the sidecar falls back to its local limit. */
  readonly leaseTimeoutMs?: number;
  /**
   * The same for the first lease, at start-up (before ready), which also waits for the first
   * connection (TCP, TLS, AUTH).
   */
  readonly joinTimeoutMs?: number;
  /** While idle, one lease (returning nothing, asking nothing) this often keeps `up` honest. */
  readonly idleHeartbeatMs?: number;
  /** After a failure, the next try waits a random time up to this, doubling per failure... */
  readonly retryBaseDelayMs?: number;
  /** ...up to this. */
  readonly retryMaxDelayMs?: number;
}

export interface FleetRateLimiterDeps {
  readonly store: FleetStore;
  /** The sidecar's own limiter: its ceiling while the fleet is up, its limit while it is down. */
  readonly local: RateLimiter;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly metrics: FleetMetrics;
  readonly logger: Logger;
}

type State = 'joining' | 'up' | 'down' | 'closed';

/** The longest the dispatcher is told to wait for a paced permit (a lease may come sooner). */
const MAX_PACE_WAIT_MS = 1_000;
/**
 * While a lease is on its way the dispatcher is told to look again this soon: a backstop, since
 * the landing lease tells it at once (`attach`), and it looks no more often than every 50 ms.
 */
const LEASE_WAIT_POLL_MS = 10;
/** A starved sidecar spends its permits at this much of the rate the fleet grants it. */
const PACE_OVER_GRANT_RATE = 1.05;
/**
 * The pace keeps this much of its rate for a dispatcher that asks late: it wakes at most every
 * 50 ms while held back (dispatcher.ts), and a pace that kept less would lose what came between.
 */
const PACE_HOLD_MS = 100;
/** Throttled answers since the last lease that make the next lease go at once (the fleet slows down sooner). */
const THROTTLES_TO_REPORT_AT_ONCE = 5;

/**
 * The fleet-wide limiter: the SWF quota of many sidecars, held in Redis (fleet-lease-script.ts)
 * behind the same synchronous RateLimiter port as the local one.
 *
 * The hot path never waits on Redis. `tryAcquire` hands out permits leased earlier, and only as
 * fast as this sidecar's own limiter allows (its ceiling). A lease loop in the background takes
 * new permits, sized by the LeasePlanner, gives back what is not needed and reports SWF's
 * answers, so the fleet's rate follows throttling seen anywhere.
 *
 * When Redis fails (an error, or no answer within `leaseTimeoutMs`) the sidecar falls back to its
 * local limiter at once, logs it once and shows it in `swf_sidecar_fleet_limiter_up`; it tries
 * again with jittered exponential backoff and rejoins at the first lease that succeeds. Permits
 * held at the failure are dropped (Redis already counted them; they cannot be given back), and
 * permits of a lease that answers after its timeout are given back on the next one.
 */
export class FleetRateLimiter implements RateLimiter {
  private readonly planner: LeasePlanner;
  private readonly leaseTimeoutMs: number;
  private readonly joinTimeoutMs: number;
  private readonly idleHeartbeatMs: number;
  private readonly retryBaseDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private state: State = 'joining';
  /** Leased permits not yet handed out. */
  private pool = 0;
  /** Permits granted by leases that answered after their timeout: given back next time. */
  private lateGranted = 0;
  private consumed = 0;
  private starved = false;
  private answers = 0;
  private throttled = 0;
  private leaseInFlight = false;
  private lastLeaseAtMs = Number.NEGATIVE_INFINITY;
  private timer: TimerHandle | undefined;
  private nextLeaseAtMs: number | undefined;
  /** The scheduled lease is only the idle heartbeat (or a retry): demand may run one at once. */
  private timerIsHeartbeat = false;
  private failures = 0;
  private downSinceMs: number | undefined;
  private last: LeaseReply | undefined;
  private joined = false;
  /**
   * While starved, permits are spent evenly at about the rate the fleet grants them, not at once
   * per lease: the fleet's calls then follow its bucket's refill, and no second at SWF holds much
   * more than the fleet rate however the leases of the sidecars fall.
   */
  private pace: TokenBucket | undefined;
  /** Sizes starved leases by its backlog; told when permits land (`attach`). */
  private dispatcher: LimiterClient | undefined;

  constructor(
    private readonly options: FleetRateLimiterOptions,
    private readonly deps: FleetRateLimiterDeps,
  ) {
    this.planner = new LeasePlanner({
      localRatePerSecond: options.localRatePerSecond,
      localBurst: options.localBurst,
      fleetRatePerSecond: options.fleetRatePerSecond,
      fleetBurst: options.fleetBurst,
    });
    this.leaseTimeoutMs = options.leaseTimeoutMs ?? 500;
    this.joinTimeoutMs = options.joinTimeoutMs ?? 2_000;
    this.idleHeartbeatMs = options.idleHeartbeatMs ?? 10_000;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 250;
    this.retryMaxDelayMs = options.retryMaxDelayMs ?? 5_000;
    deps.metrics.up.set(0);
    deps.metrics.permitsHeld = () => Math.floor(this.pool);
  }

  /**
   * Joins the fleet: one lease that asks for nothing, bounded by the join timeout. Never
   * rejects; when it fails the sidecar starts on its local limit and keeps trying.
   */
  start(): Promise<void> {
    return new Promise((resolve) => this.runLease(resolve));
  }

  tryAcquire(wanted: number): number {
    if (this.state === 'down' || this.state === 'closed') {
      const granted = this.deps.local.tryAcquire(wanted);
      this.consumed += granted;
      return granted;
    }
    const now = this.deps.clock.now();
    const inPool = Math.min(wanted, Math.floor(this.pool));
    const fromPool = this.pace === undefined || inPool === 0 ? inPool : this.pace.tryTake(inPool, now);
    const granted = fromPool > 0 ? this.deps.local.tryAcquire(fromPool) : 0;
    this.pool -= granted;
    this.consumed += granted;
    // Held back by the pace or by an empty pool, demand is beyond what the fleet grants: starved.
    // Only an empty pool may make the next lease go early; a paced one is waiting as planned.
    if (fromPool < wanted) this.starved = true;
    if (inPool < wanted) this.onStarved();
    return granted;
  }

  msUntilAvailable(): number {
    if (this.state === 'down' || this.state === 'closed') return this.deps.local.msUntilAvailable();
    if (this.pool >= 1) {
      // Capped: a pace is recomputed at every lease, and the dispatcher must ask again by then.
      const paced = Math.min(MAX_PACE_WAIT_MS, this.pace?.msUntilToken(this.deps.clock.now()) ?? 0);
      return Math.max(paced, this.deps.local.msUntilAvailable());
    }
    if (this.leaseInFlight || this.nextLeaseAtMs === undefined) return LEASE_WAIT_POLL_MS;
    return Math.max(1, Math.ceil(this.nextLeaseAtMs - this.deps.clock.now()) + 1);
  }

  onAnswer(throttled: boolean): void {
    this.deps.local.onAnswer(throttled);
    if (this.state === 'closed') return;
    this.answers += 1;
    if (!throttled) return;
    this.throttled += 1;
    if (this.state === 'up' && this.throttled >= THROTTLES_TO_REPORT_AT_ONCE && this.mayLeaseEarly()) {
      this.runLease();
    }
  }

  attach(dispatcher: LimiterClient): void {
    this.dispatcher = dispatcher;
  }

  currentRatePerSecond(): number {
    const local = this.deps.local.currentRatePerSecond();
    return this.state === 'up' && this.last !== undefined ? Math.min(local, this.last.fleetRatePerSecond) : local;
  }

  /** Whether the fleet's budget is in use (false while on the local fallback). */
  get isUp(): boolean {
    return this.state === 'up';
  }

  /**
   * Stops the lease loop, gives unused permits back (one lease, bounded by the timeout) and
   * closes the store. Idempotent.
   */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const wasUp = this.state === 'up';
    this.state = 'closed';
    this.clearTimer();
    const returned = Math.floor(this.pool) + this.lateGranted;
    this.pool = 0;
    if (wasUp && returned > 0 && !this.leaseInFlight) {
      await this.withTimeout(
        this.deps.store.lease({ requested: 0, returned, answers: 0, throttled: 0, intervalMs: 0 }),
      ).then(
        () => this.deps.metrics.permits.inc({ kind: 'returned' }, returned),
        () => undefined,
      );
    }
    await this.deps.store.close();
  }

  private onStarved(): void {
    if (this.state !== 'up' || this.leaseInFlight) return;
    // Demand after an idle spell: lease now. Otherwise only when the fleet had permits to spare
    // at the last look; when it had none, leasing sooner would only cost Redis more calls.
    const spare = (this.last?.fleetTokens ?? 0) >= this.planner.permitsPerLease;
    if (this.timerIsHeartbeat || this.timer === undefined || (spare && this.mayLeaseEarly())) this.runLease();
  }

  private mayLeaseEarly(): boolean {
    return !this.leaseInFlight && this.deps.clock.now() - this.lastLeaseAtMs >= this.planner.minIntervalMs;
  }

  private runLease(done?: () => void): void {
    if (this.leaseInFlight || this.state === 'closed') {
      done?.();
      return;
    }
    this.clearTimer();
    const { clock, store } = this.deps;
    const now = clock.now();
    const wasIdle = this.timerIsHeartbeat;
    if (wasIdle) this.planner.resetTiming();
    const last = this.last;
    const plan = this.planner.plan({
      nowMs: now,
      pool: this.pool,
      consumed: this.consumed,
      starved: this.starved,
      ...(this.dispatcher === undefined ? {} : { backlog: this.dispatcher.backlog() }),
      // 0.5x to 1.5x: sidecars leasing at the same pace must not keep one order, since a lease
      // takes what the bucket gained since the one before; only a shuffled order shares evenly.
      jitter: 0.5 + this.deps.random(),
      ...(last === undefined
        ? {}
        : {
            fleet: {
              ratePerSecond: last.fleetRatePerSecond,
              sidecarsSharing: last.sidecarsSharing,
              spare: last.fleetTokens >= this.planner.permitsPerLease,
            },
          }),
    });
    const returnedFromPool = this.state === 'up' ? Math.min(plan.returned, Math.floor(this.pool)) : 0;
    const request = {
      requested: plan.requested,
      returned: returnedFromPool + this.lateGranted,
      answers: this.answers,
      throttled: this.throttled,
      intervalMs: plan.intervalMs,
    };
    this.pool -= returnedFromPool;
    this.lateGranted = 0;
    this.consumed = 0;
    this.starved = false;
    this.answers = 0;
    this.throttled = 0;
    this.leaseInFlight = true;
    this.lastLeaseAtMs = now;

    let settled = false;
    const timeoutMs = this.state === 'joining' ? this.joinTimeoutMs : this.leaseTimeoutMs;
    const timeout = clock.setTimeout(() => {
      if (settled) return;
      settled = true;
      const error = Object.assign(new Error(`no answer from Redis within ${timeoutMs} ms`), { code: 'ETIMEDOUT' });
      this.onLeaseFailed(error);
      done?.();
    }, timeoutMs);
    store.lease(request).then(
      (reply) => {
        this.leaseInFlight = false;
        if (settled) {
          // Answered after its timeout: the sidecar already moved on. Give the permits back, and
          // take the answer as a sign that Redis is back.
          this.lateGranted += reply.granted;
          this.deps.metrics.permits.inc({ kind: 'leased' }, reply.granted);
          if (this.state === 'down') this.scheduleLease(0, true);
          return;
        }
        settled = true;
        clock.clearTimeout(timeout);
        this.onLeaseOk(reply, request.returned, plan);
        done?.();
      },
      (error: unknown) => {
        this.leaseInFlight = false;
        if (settled) {
          if (this.state === 'down') this.scheduleRetry();
          return;
        }
        settled = true;
        clock.clearTimeout(timeout);
        this.onLeaseFailed(error);
        done?.();
      },
    );
  }

  private onLeaseOk(reply: LeaseReply, returned: number, plan: LeasePlan): void {
    if (this.state === 'closed') return;
    const { metrics, logger, clock } = this.deps;
    metrics.leases.inc({ result: 'ok' });
    if (reply.granted > 0) metrics.permits.inc({ kind: 'leased' }, reply.granted);
    if (returned > 0) metrics.permits.inc({ kind: 'returned' }, returned);
    metrics.fleetRate.set(reply.fleetRatePerSecond);
    const log = { redis: this.options.describe.redis, fleet_key: this.options.describe.fleetKey };
    if (reply.fresh && this.joined) {
      logger.info(
        log,
        'fleet limiter: Redis had no state for the fleet (expired, or restarted empty); a full bucket again',
      );
    }
    if (this.state !== 'up') {
      if (!this.joined) {
        logger.info(
          {
            ...log,
            fleet_rate_per_second: this.options.fleetRatePerSecond,
            fleet_burst: this.options.fleetBurst,
          },
          "fleet limiter: joined the fleet's shared budget in Redis",
        );
      } else {
        const downMs = this.downSinceMs === undefined ? 0 : clock.now() - this.downSinceMs;
        logger.info(
          { ...log, down_ms: Math.round(downMs) },
          "fleet limiter: Redis is back; using the fleet's shared budget again",
        );
      }
      this.joined = true;
      this.state = 'up';
      this.failures = 0;
      this.downSinceMs = undefined;
      metrics.up.set(1);
    }
    this.last = reply;
    this.pool += reply.granted;
    this.planner.onGranted(reply.granted, clock.now());
    if (plan.idle && this.pool < 1) {
      this.pace = undefined;
      this.scheduleLease(this.idleHeartbeatMs, true);
      return;
    }
    const intervalMs = plan.intervalMs;
    // Paced only while the fleet's budget is the limit: with permits to spare in the fleet's
    // bucket (others went idle), holding back what was granted would only lose goodput.
    const spare = reply.fleetTokens >= this.planner.permitsPerLease;
    if (plan.starved && !spare) {
      // At the rate the fleet has been granting this sidecar (a moving average), so the pool
      // absorbs how the leases happen to fall and the fleet's calls stay near its rate; faster
      // only to spend a pool that grew beyond what that rate spends in three intervals.
      const paceRate = Math.max(
        PACE_OVER_GRANT_RATE * this.planner.grantRatePerSecond,
        (this.pool * 1000) / (3 * intervalMs),
      );
      const capacity = Math.max(1, Math.ceil(this.pool / 10), Math.ceil((paceRate * PACE_HOLD_MS) / 1000));
      this.pace = new TokenBucket(paceRate, capacity, clock.now());
    } else {
      this.pace = undefined;
    }
    this.scheduleLease(intervalMs, false);
    if (this.pool >= 1) this.dispatcher?.permitsArrived();
  }

  private onLeaseFailed(error: unknown): void {
    if (this.state === 'closed') return;
    const { metrics, logger, clock } = this.deps;
    const kind = classifyFleetStoreError(error);
    metrics.leases.inc({ result: 'failed' });
    metrics.redisErrors.inc({ kind });
    this.failures += 1;
    if (this.state !== 'down') {
      this.state = 'down';
      this.downSinceMs = clock.now();
      // The permits held were counted by Redis already; they cannot be given back now.
      this.pool = 0;
      this.pace = undefined;
      metrics.up.set(0);
      metrics.fallbacks.inc();
      logger.warn(
        {
          redis: this.options.describe.redis,
          fleet_key: this.options.describe.fleetKey,
          error_kind: kind,
          error: error instanceof Error ? error.message : String(error),
          local_rate_per_second: this.options.localRatePerSecond,
          local_burst: this.options.localBurst,
        },
        kind === 'auth'
          ? "fleet limiter: Redis refused the credentials in SWF_SIDECAR_REDIS_URL; sending at this sidecar's local limit until it accepts them"
          : "fleet limiter: cannot reach Redis; sending at this sidecar's local limit until it can",
      );
      this.dispatcher?.permitsArrived();
    }
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    const ceiling = Math.min(this.retryMaxDelayMs, this.retryBaseDelayMs * 2 ** Math.min(this.failures - 1, 20));
    // Half fixed, half random: sidecars that lost Redis together do not all come back at once.
    this.scheduleLease(ceiling / 2 + this.deps.random() * (ceiling / 2), true);
  }

  private scheduleLease(delayMs: number, heartbeat: boolean): void {
    if (this.state === 'closed') return;
    this.clearTimer();
    this.timerIsHeartbeat = heartbeat;
    this.nextLeaseAtMs = this.deps.clock.now() + delayMs;
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = undefined;
      this.nextLeaseAtMs = undefined;
      this.runLease();
    }, delayMs);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.nextLeaseAtMs = undefined;
    this.timerIsHeartbeat = false;
  }

  private withTimeout<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.deps.clock.setTimeout(() => reject(new Error('timeout')), this.leaseTimeoutMs);
      promise.then(
        (value) => {
          this.deps.clock.clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          this.deps.clock.clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }
}
