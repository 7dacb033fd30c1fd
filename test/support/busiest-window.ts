/**
 * The most events in one window `[t, t + windowMs)`, over the windows that start at an event at
 * or after `fromMs` and end by `toMs` (any window by default). `times` in any order.
 */
export function busiestWindow(
  times: readonly number[],
  windowMs: number,
  fromMs = Number.NEGATIVE_INFINITY,
  toMs = Number.POSITIVE_INFINITY,
): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let start = 0, end = 0; start < sorted.length; start += 1) {
    const windowStart = sorted[start]!;
    if (windowStart < fromMs || windowStart + windowMs > toMs) continue;
    end = Math.max(end, start);
    while (end < sorted.length && sorted[end]! < windowStart + windowMs) end += 1;
    best = Math.max(best, end - start);
  }
  return best;
}
