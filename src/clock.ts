/**
 * Time as a dependency. Everything that waits or measures takes a Clock, so tests drive time by
 * hand (see test/support/manual-clock.ts) and never sleep to wait for a timer.
 */
export interface TimerHandle {
  readonly __timer?: never;
}

export interface Clock {
  /** Milliseconds on a monotonic scale; only differences mean anything. */
  now(): number;
  /** Runs `callback` after `delayMs`. Background timers never keep the process alive. */
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, delayMs) => {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    timer.unref();
    return timer as unknown as TimerHandle;
  },
  clearTimeout: (handle) => clearTimeout(handle as unknown as NodeJS.Timeout),
};

/** A source of uniformly distributed numbers in [0, 1), injected for jitter. */
export type RandomSource = () => number;
