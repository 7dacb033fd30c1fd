/**
 * AIMD (additive increase, multiplicative decrease) for the send rate, as pure data.
 *
 * - On a ThrottlingException the rate is multiplied by `decreaseFactor` (default 0.5), at most
 *   once per `decreaseCooldownMs` (default 1000), because one burst that SWF refused comes back
 *   as many throttles at once and must count as one signal.
 * - After the cooldown, the rate climbs back linearly by `increasePerSecond` each second
 *   (default a tenth of the configured rate, so full speed returns within about 10 s), up to
 *   the configured rate.
 * - It never goes below `minRatePerSecond` (default a twentieth of the configured rate, at least
 *   1/s), so the sidecar keeps probing and a run of throttles cannot stall delivery for good.
 */
export interface AdaptiveRateOptions {
  readonly maxRatePerSecond: number;
  readonly minRatePerSecond?: number;
  readonly decreaseFactor?: number;
  readonly decreaseCooldownMs?: number;
  readonly increasePerSecond?: number;
}

export class AdaptiveRate {
  private readonly maxRate: number;
  private readonly minRate: number;
  private readonly decreaseFactor: number;
  private readonly cooldownMs: number;
  private readonly increasePerSecond: number;
  /** Rate right after the last decrease, and when that was. */
  private floorRate: number;
  private lastDecreaseMs = Number.NEGATIVE_INFINITY;

  constructor(options: AdaptiveRateOptions) {
    this.maxRate = options.maxRatePerSecond;
    this.minRate = Math.min(options.minRatePerSecond ?? Math.max(1, this.maxRate / 20), this.maxRate);
    this.decreaseFactor = options.decreaseFactor ?? 0.5;
    this.cooldownMs = options.decreaseCooldownMs ?? 1000;
    this.increasePerSecond = options.increasePerSecond ?? this.maxRate / 10;
    this.floorRate = this.maxRate;
  }

  /** The rate to send at now. */
  rateAt(nowMs: number): number {
    const sinceCooldownMs = nowMs - this.lastDecreaseMs - this.cooldownMs;
    if (sinceCooldownMs <= 0) return this.floorRate;
    return Math.min(this.maxRate, this.floorRate + (sinceCooldownMs / 1000) * this.increasePerSecond);
  }

  /** Records a throttle; returns true when it lowered the rate (false inside the cooldown). */
  onThrottled(nowMs: number): boolean {
    if (nowMs - this.lastDecreaseMs < this.cooldownMs) return false;
    this.floorRate = Math.max(this.minRate, this.rateAt(nowMs) * this.decreaseFactor);
    this.lastDecreaseMs = nowMs;
    return true;
  }
}
