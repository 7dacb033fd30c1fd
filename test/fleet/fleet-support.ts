/**
 * Helpers of the fleet tests: a fleet of built sidecar processes in front of one fake SWF, load
 * spread over them, and what SWF saw. Needs `npm run build`.
 */
import assert from 'node:assert/strict';
import { busiestWindow } from '../support/busiest-window.js';
import type { FakeSwf, FakeSwfCall } from '../support/fake-swf.js';
import { connectClient, type ActivityTasksTestClient } from '../support/grpc-client.js';
import { spawnSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import { metricsText, sumOf, until } from '../robustness/robustness-support.js';

export interface Fleet {
  readonly sidecars: readonly SidecarProcess[];
  readonly clients: readonly ActivityTasksTestClient[];
  stop(): Promise<void>;
}

/** Starts `size` sidecars with the same settings (in parallel) and a gRPC client for each. */
export async function startFleet(size: number, env: Record<string, string>): Promise<Fleet> {
  const started = await Promise.allSettled(
    Array.from({ length: size }, () =>
      spawnSidecar({ SWF_SIDECAR_SHUTDOWN_GRACE_MS: '1000', ...env }, { readyTimeoutMs: 30_000 }),
    ),
  );
  const sidecars = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(sidecars.map((s) => s.stop('SIGKILL')));
    throw failed.reason;
  }
  const clients = sidecars.map((s) => connectClient(s.grpcAddress));
  return {
    sidecars,
    clients,
    async stop() {
      for (const client of clients) client.close();
      await Promise.all(sidecars.map((s) => s.stop()));
    },
  };
}

/**
 * Sends `perSidecar` QUEUED reports to every sidecar, in batches of 100, all at once; each must
 * be accepted. Returns every token sent.
 */
export async function sendQueued(fleet: Fleet, prefix: string, perSidecar: number): Promise<string[]> {
  const all: string[] = [];
  await Promise.all(
    fleet.clients.map(async (client, i) => {
      const tokens = Array.from({ length: perSidecar }, (_, k) => `${prefix}-${i}-${String(k).padStart(5, '0')}`);
      all.push(...tokens);
      for (let k = 0; k < tokens.length; k += 100) {
        const batch = tokens.slice(k, k + 100);
        const response = await client.failMany({
          tasks: batch.map((taskToken) => ({ taskToken, delivery: 'DELIVERY_QUEUED' })),
        });
        assert.ok(
          response.results.every((r) => r.code === 0 && r.outcome === 'OUTCOME_QUEUED'),
          `sidecar ${i} refused reports: ${JSON.stringify(response.results.find((r) => r.code !== 0))}`,
        );
      }
    }),
  );
  return all;
}

/** Waits (bounded) until SWF accepted every one of `tokens`. */
export async function untilAllAccepted(fake: FakeSwf, tokens: readonly string[], timeoutMs: number): Promise<void> {
  const wanted = new Set(tokens);
  await until(() => fake.accepted().filter((c) => wanted.has(c.taskToken ?? '')).length >= wanted.size, {
    timeoutMs,
    intervalMs: 100,
    describe: () => `accepted ${fake.accepted().filter((c) => wanted.has(c.taskToken ?? '')).length} of ${wanted.size}`,
  });
}

/**
 * Waits (bounded) until every sidecar draws on the shared budget: a sidecar joins before it is
 * ready, but one whose first lease took longer than its join timeout (a busy machine) starts on
 * its local limit and joins a moment later.
 */
export async function untilAllJoined(fleet: Fleet, timeoutMs = 15_000): Promise<void> {
  let up = 0;
  await until(
    async () => {
      up = await fleetSum(fleet, 'swf_sidecar_fleet_limiter_up');
      return up === fleet.sidecars.length;
    },
    { timeoutMs, intervalMs: 100, describe: () => `${up} of ${fleet.sidecars.length} sidecars joined` },
  );
}

/** Sum of one metric over every sidecar of the fleet. */
export async function fleetSum(fleet: Fleet, metric: string, labels: Record<string, string> = {}): Promise<number> {
  const texts = await Promise.all(fleet.sidecars.map((s) => metricsText(s)));
  return texts.reduce((sum, text) => sum + sumOf(text, metric, labels), 0);
}

/** One metric of each sidecar. */
export async function perSidecar(fleet: Fleet, metric: string, labels: Record<string, string> = {}): Promise<number[]> {
  return Promise.all(fleet.sidecars.map(async (s) => sumOf(await metricsText(s), metric, labels)));
}

export interface RunFigures {
  readonly calls: number;
  readonly throttled: number;
  readonly throttledShare: number;
  readonly accepted: number;
  /** Accepted per second from the first call to the last acceptance, less `freeAtStart`. */
  readonly goodputPerSecond: number;
  /**
   * The most calls in a 1 s window of the steady state: from 2 s after the first call (the first
   * burst is spent by then: each sidecar spends a lease evenly over its next interval, up to
   * 0.75 s) until the first sidecar ran out of reports (from then on, permits it gives back fill
   * the fleet's bucket again, and the others may spend them as a burst, as a token bucket allows).
   */
  readonly maxCallsPerSecondSteady: number;
  /** The most calls in any 1 s window of the whole run. */
  readonly maxCallsPerSecond: number;
  /**
   * The most calls in any 2 s window of the whole run: the window that judges the first burst.
   * The fake reads arrivals on the test's event loop, which is busiest while it sends every
   * report at the start, so calls made in the first second may be read in a bunch a little
   * later; 2 s hold that bunch, while a sidecar that spent its own burst besides the fleet's
   * would still show 8 × 50 calls too many.
   */
  readonly maxCallsInTwoSeconds: number;
  readonly durationMs: number;
}

/**
 * What SWF saw of one run. `freeAtStart`: accepted calls a full bucket let through at once.
 * Tokens are `PREFIX-SIDECAR-N` (sendQueued), so the first sidecar to finish is known.
 */
export function figures(calls: readonly FakeSwfCall[], freeAtStart: number): RunFigures {
  const accepted = calls.filter((c) => c.answer === 'accepted');
  const throttled = calls.filter((c) => c.answer === 'ThrottlingException').length;
  const times = calls.map((c) => c.atMs).sort((a, b) => a - b);
  const first = times[0] ?? 0;
  const lastAccepted = Math.max(...accepted.map((c) => c.atMs));
  const lastBySidecar = new Map<string, number>();
  for (const call of accepted) {
    const sidecar = (call.taskToken ?? '').split('-').at(-2) ?? '';
    lastBySidecar.set(sidecar, Math.max(lastBySidecar.get(sidecar) ?? 0, call.atMs));
  }
  const firstFinished = Math.min(...lastBySidecar.values());
  return {
    calls: calls.length,
    throttled,
    throttledShare: calls.length === 0 ? 0 : throttled / calls.length,
    accepted: accepted.length,
    goodputPerSecond: ((accepted.length - freeAtStart) * 1000) / (lastAccepted - first),
    maxCallsPerSecondSteady: busiestWindow(times, 1000, first + 2000, firstFinished),
    maxCallsPerSecond: busiestWindow(times, 1000),
    maxCallsInTwoSeconds: busiestWindow(times, 2000),
    durationMs: lastAccepted - first,
  };
}
