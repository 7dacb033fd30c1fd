import type { Clock, TimerHandle } from '../../src/clock.js';

interface ManualTimer {
  readonly id: number;
  readonly dueMs: number;
  readonly callback: () => void;
}

/**
 * A Clock that moves only when the test says so. `advance` fires due timers in time order and
 * lets the promise jobs they start settle after each one, so tests never sleep for a timer.
 */
export class ManualClock implements Clock {
  private nowMs: number;
  private nextId = 1;
  private timers: ManualTimer[] = [];

  constructor(startMs = 1_000_000) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer = { id: this.nextId++, dueMs: this.nowMs + Math.max(0, delayMs), callback };
    this.timers.push(timer);
    return timer.id as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((timer) => timer.id !== (handle as unknown as number));
  }

  /** Timers not yet fired. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Milliseconds until the next timer is due, or undefined when none is pending. */
  msUntilNextTimer(): number | undefined {
    if (this.timers.length === 0) return undefined;
    return Math.max(0, Math.min(...this.timers.map((timer) => timer.dueMs)) - this.nowMs);
  }

  /** Moves time forward by `ms`, firing every timer that comes due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const targetMs = this.nowMs + ms;
    await settle();
    for (;;) {
      const next = this.timers
        .filter((timer) => timer.dueMs <= targetMs)
        .sort((a, b) => a.dueMs - b.dueMs || a.id - b.id)[0];
      if (next === undefined) break;
      this.timers = this.timers.filter((timer) => timer !== next);
      this.nowMs = Math.max(this.nowMs, next.dueMs);
      next.callback();
      await settle();
    }
    this.nowMs = targetMs;
    await settle();
  }

  /** Advances until no timer is pending or `limitMs` has passed; returns the time advanced. */
  async runAll(limitMs = 3_600_000): Promise<number> {
    const startMs = this.nowMs;
    await settle();
    for (let next = this.msUntilNextTimer(); next !== undefined; next = this.msUntilNextTimer()) {
      if (this.nowMs - startMs + next > limitMs) break;
      await this.advance(next);
    }
    return this.nowMs - startMs;
  }
}

/** Lets queued promise jobs and microtasks run (a macrotask turn, not a timer wait). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
