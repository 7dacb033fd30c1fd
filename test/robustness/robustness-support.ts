/**
 * Helpers shared by the robustness tests: bounded polling (never a sleep standing in for a
 * sidecar timer), Prometheus samples read over HTTP from a sidecar process, and what the fake
 * saw per token.
 */
import assert from 'node:assert/strict';
import type { FakeSwf, FakeSwfCall } from '../support/fake-swf.js';
import type { SidecarProcess } from '../support/sidecar-process.js';

export { until } from '../support/until.js';

/** The Prometheus text of a sidecar process's /metrics. */
export async function metricsText(sidecar: SidecarProcess): Promise<string> {
  const response = await fetch(`http://${sidecar.metricsAddress}/metrics`);
  assert.equal(response.status, 200);
  return response.text();
}

/**
 * The sum of every series of `metric` whose labels include all of `labels`
 * (`sum(metric{labels})`); 0 when none is exported yet.
 */
export function sumOf(text: string, metric: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== metric) continue;
    const labelText = match[2] ?? '';
    if (Object.entries(labels).every(([key, value]) => labelText.includes(`${key}="${value}"`))) {
      total += Number(match[3]);
    }
  }
  return total;
}

export async function sampleOf(
  sidecar: SidecarProcess,
  metric: string,
  labels: Record<string, string> = {},
): Promise<number> {
  return sumOf(await metricsText(sidecar), metric, labels);
}

/** The fake's calls grouped by task token, each group in arrival order. */
export function callsByToken(fake: FakeSwf): Map<string, FakeSwfCall[]> {
  const byToken = new Map<string, FakeSwfCall[]>();
  for (const call of fake.calls) {
    if (call.taskToken === undefined) continue;
    const list = byToken.get(call.taskToken) ?? [];
    list.push(call);
    byToken.set(call.taskToken, list);
  }
  return byToken;
}

/** Tokens the fake accepted at least once. */
export function acceptedTokens(fake: FakeSwf): Set<string> {
  return new Set(fake.accepted().map((call) => call.taskToken ?? ''));
}

/** Tokens among `tokens` the fake accepted more than once (must stay empty), and how often. */
export function acceptedMoreThanOnce(fake: FakeSwf): [string, number][] {
  return [...fake.acceptedCountByToken()].filter(([, count]) => count > 1);
}

/** The sidecar's log lines with this message. */
export function logLines(sidecar: SidecarProcess, msg: string | RegExp): Record<string, unknown>[] {
  return sidecar.logs.filter((entry) =>
    typeof msg === 'string' ? entry['msg'] === msg : typeof entry['msg'] === 'string' && msg.test(entry['msg']),
  );
}

/** `count` distinct tokens with a prefix, zero-padded so they sort in order. */
export function tokens(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}`);
}
