/**
 * The send rate, adjusted to SWF's throttling once per window, as pure data (time passed in).
 *
 * Each window (default 1 s) the share `s` of SWF answers that were ThrottlingException sets the
 * next rate:
 *
 *     rate := rate × (1 − s/2) + increasePerWindow × (1 − s)      (between the floor and the maximum)
 *
 * - No throttles: the rate climbs linearly by `increasePerWindow` (default a tenth of the
 *   configured rate, so full speed returns within about 10 s).
 * - All throttled: the rate halves (multiplicative decrease, as in AIMD).
 * - A share in between settles where the two balance (30% throttled: about half the maximum),
 *   instead of collapsing to the floor as plain AIMD does when throttles never stop entirely.
 * - A window closes early once at least `earlyMinAnswers` (default 20) answers are in and
 *   `earlyThrottledShare` (default 80%) or more of them were throttled: an exhausted account
 *   quota is answered within a few dozen calls, not a second. (At 50%, the clumps of throttles
 *   that an over-subscribed quota gives closed windows early all the time, and the rate dipped
 *   below the quota: benchmark 6 lost 9% of the goodput.)
 * - The rate never goes below `minRatePerSecond` (default a twentieth of the maximum, at least
 *   1/s), so the sidecar keeps probing.
 */
export interface AdaptiveRateOptions {
  readonly maxRatePerSecond: number;
  readonly minRatePerSecond?: number;
  readonly windowMs?: number;
  readonly increasePerWindow?: number;
  readonly earlyMinAnswers?: number;
  readonly earlyThrottledShare?: number;
}

/** What closing a window did: the throttled share it saw, for the limiter to react to. */
export interface WindowClosed {
  readonly throttledShare: number;
}

export class AdaptiveRate {
  private readonly maxRate: number;
  private readonly minRate: number;
  private readonly windowMs: number;
  private readonly increasePerWindow: number;
  private readonly earlyMinAnswers: number;
  private readonly earlyThrottledShare: number;
  private rate: number;
  private windowStartMs: number | undefined;
  private answers = 0;
  private throttled = 0;

  constructor(options: AdaptiveRateOptions) {
    this.maxRate = options.maxRatePerSecond;
    this.minRate = Math.min(options.minRatePerSecond ?? Math.max(1, this.maxRate / 20), this.maxRate);
    this.windowMs = options.windowMs ?? 1000;
    this.increasePerWindow = options.increasePerWindow ?? this.maxRate / 10;
    this.earlyMinAnswers = options.earlyMinAnswers ?? 20;
    this.earlyThrottledShare = options.earlyThrottledShare ?? 0.8;
    this.rate = this.maxRate;
  }

  /** The rate to send at now. */
  rateAt(nowMs: number): number {
    this.closeElapsedWindows(nowMs);
    return this.rate;
  }

  /**
   * Records one SWF answer (anything but a transport error). Returns the closed window when
   * this answer closed one, so the caller can react at once.
   */
  onAnswer(throttled: boolean, nowMs: number): WindowClosed | undefined {
    const closed = this.closeElapsedWindows(nowMs);
    this.windowStartMs ??= nowMs;
    this.answers += 1;
    if (throttled) this.throttled += 1;
    if (this.answers >= this.earlyMinAnswers && this.throttled >= this.earlyThrottledShare * this.answers) {
      this.windowStartMs = nowMs;
      return this.closeWindow();
    }
    return closed;
  }

  private closeElapsedWindows(nowMs: number): WindowClosed | undefined {
    if (this.windowStartMs === undefined || nowMs - this.windowStartMs < this.windowMs) return undefined;
    const windows = Math.floor((nowMs - this.windowStartMs) / this.windowMs);
    const closed = this.closeWindow();
    // The windows after it saw no answer at all: each counts as throttle-free.
    this.rate = Math.min(this.maxRate, this.rate + (windows - 1) * this.increasePerWindow);
    this.windowStartMs += windows * this.windowMs;
    return closed;
  }

  private closeWindow(): WindowClosed {
    const share = this.answers === 0 ? 0 : this.throttled / this.answers;
    const next = this.rate * (1 - share / 2) + this.increasePerWindow * (1 - share);
    this.rate = Math.max(this.minRate, Math.min(this.maxRate, next));
    this.answers = 0;
    this.throttled = 0;
    return { throttledShare: share };
  }
}
