/** Arrival times (ms) cut into whole seconds from the first one: counts[k] covers [t0+k s, t0+k+1 s). */
export function perSecondCounts(arrivalsMs: readonly number[]): { counts: number[]; firstMs: number; lastMs: number } {
  const sorted = [...arrivalsMs].sort((a, b) => a - b);
  const firstMs = sorted[0] ?? Number.NaN;
  const lastMs = sorted[sorted.length - 1] ?? Number.NaN;
  const counts: number[] = [];
  for (const at of sorted) {
    const k = Math.floor((at - firstMs) / 1000);
    while (counts.length <= k) counts.push(0);
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return { counts, firstMs, lastMs };
}

/** The most arrivals in any window [t, t + windowMs). */
export function maxInAnyWindow(arrivalsMs: readonly number[], windowMs: number): number {
  const sorted = [...arrivalsMs].sort((a, b) => a - b);
  let best = 0;
  let end = 0;
  for (let start = 0; start < sorted.length; start++) {
    const from = sorted[start] as number;
    while (end < sorted.length && (sorted[end] as number) < from + windowMs) end++;
    best = Math.max(best, end - start);
  }
  return best;
}

/** Polls `done` every 50 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}
