/** Reads the sidecar's Prometheus text from its ops server. */
export async function scrapeMetrics(metricsAddress: string): Promise<string> {
  const response = await fetch(`http://${metricsAddress}/metrics`, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`GET /metrics: HTTP ${response.status}`);
  return response.text();
}

/**
 * Sum of the samples of `name` whose labels include every pair in `labels` (no `labels`: all of
 * them). 0 when none matches.
 */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match === null || match[1] !== name) continue;
    const labelText = match[2] ?? '';
    const wanted = Object.entries(labels).every(([key, value]) => labelText.includes(`${key}="${value}"`));
    if (wanted) total += Number(match[3]);
  }
  return total;
}
