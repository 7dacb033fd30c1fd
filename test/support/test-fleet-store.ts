import type { FleetStore, LeaseReply, LeaseRequest } from '../../src/rate/fleet-store.js';
import type { ManualClock } from './manual-clock.js';

export interface HeldLease {
  readonly request: LeaseRequest;
  resolve(reply: LeaseReply): void;
  reject(error: Error): void;
}

/**
 * A FleetStore the test drives, on the manual clock. `auto`: a token bucket answers, after
 * `latencyMs` (0: at once); `hold`: each lease waits until the test answers or fails it; `fail`:
 * Redis refuses the connection. Like the Lua script it counts the sidecars sharing the budget
 * from the intervals their leases report, over whole 1 s windows; unlike it, its rate is fixed.
 */
export class TestFleetStore implements FleetStore {
  readonly requests: LeaseRequest[] = [];
  readonly held: HeldLease[] = [];
  mode: 'auto' | 'hold' | 'fail' = 'auto';
  latencyMs = 0;
  closed = false;
  private tokens: number;
  private lastMs: number;
  private windowStartMs: number;
  private intervalSum = 0;
  private sharing = 0;

  constructor(
    private readonly clock: ManualClock,
    private readonly rate: number,
    private readonly burst: number,
    public fleetRate = rate,
  ) {
    this.tokens = burst;
    this.lastMs = clock.now();
    this.windowStartMs = clock.now();
  }

  lease(request: LeaseRequest): Promise<LeaseReply> {
    this.requests.push(request);
    if (this.mode === 'fail')
      return Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    if (this.mode === 'hold') return new Promise((resolve, reject) => this.held.push({ request, resolve, reject }));
    if (this.latencyMs === 0) return Promise.resolve(this.answer(request));
    return new Promise((resolve) => this.clock.setTimeout(() => resolve(this.answer(request)), this.latencyMs));
  }

  answer(request: LeaseRequest): LeaseReply {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.lastMs) / 1000) * this.rate + request.returned);
    this.lastMs = now;
    const windows = Math.floor((now - this.windowStartMs) / 1000);
    if (windows > 0) {
      this.sharing = windows === 1 ? this.intervalSum : 0;
      this.intervalSum = 0;
      this.windowStartMs += windows * 1000;
    }
    if (request.requested > 0) this.intervalSum += request.intervalMs / 1000;
    const granted = Math.max(0, Math.min(request.requested, Math.floor(this.tokens)));
    this.tokens -= granted;
    return {
      granted,
      fleetRatePerSecond: this.fleetRate,
      fleetTokens: this.tokens,
      fresh: false,
      sidecarsSharing: this.sharing,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
