/**
 * Measurement 2 (added latency a hop) and 3b (CPU per forwarded call): CONFIRMED calls at 200/s
 * and 1000/s through the sidecar (limiter far above the offered load) to a fast local fake SWF,
 * against the same reports sent directly with @aws-sdk/client-swf to the same fake. Both are the
 * same open-loop schedule from the same driver program, each in a fresh process, with the same
 * warm-up; latency is measured in the client from the start of each call to its answer.
 *
 * One window's p99 on this 2-vCPU machine moves by several ms between identical runs, so each
 * rate runs `rounds` times, direct, relay and sidecar alternated, and the graded figures are the
 * medians of each path's per-round percentiles. The relay (bench/support/bare-server.mjs with
 * BENCH_FORWARD_URL: a bare grpc-js server forwarding with plain `node:http`, no signing, queue
 * or metrics) shows what any Node.js hop adds on this machine; it is not graded.
 */
import type { MeasurementResult, Row } from './report.js';
import { fixed, ms, percent, ratio, signed, us } from './support/format.js';
import { runLoad, type LoadResult } from './support/load-driver-client.js';
import { metricValue, scrapeMetrics } from './support/metrics-scrape.js';
import { DELIVERY } from './support/payload.js';
import { CpuWindow } from './support/proc.js';
import { sidecarEnv, startBareServer, startSidecar } from './support/servers.js';
import { median, summarize, type Summary } from './support/stats.js';
import { disturbedNote, quietRun } from './support/quiet-retry.js';
import type { ForeignLoad } from './support/proc.js';
import type { FakeSwf } from '../test/support/fake-swf.js';

export interface LatencyOptions {
  readonly rates: readonly { readonly perSecond: number; readonly windowMs: number }[];
  readonly warmupMs: number;
  /** Windows of each path at each rate, alternated; the figures are medians over them. */
  readonly rounds: number;
}

export const LATENCY_DEFAULTS: LatencyOptions = {
  rates: [
    { perSecond: 200, windowMs: 10_000 },
    { perSecond: 1000, windowMs: 6_000 },
  ],
  warmupMs: 2_000,
  rounds: 5,
};

/** Far above any offered load here: this measurement is about the hop, not the limiter. */
const UNLIMITED = { SWF_SIDECAR_RATE_PER_SECOND: '100000', SWF_SIDECAR_BURST: '100000' } as const;

type PathName = 'direct' | 'relay' | 'sidecar';

interface PathRun {
  readonly path: PathName;
  readonly perSecond: number;
  readonly latencyMs: Summary;
  readonly scheduleLagMs: Summary;
  readonly ok: number;
  readonly errors: number;
  /** CPU of the process doing the SWF calls (the sidecar, or the direct SDK client) a call. */
  readonly cpuUsPerCall: number;
  readonly vcpu: number;
  readonly eventLoopLagP99Ms?: number;
  readonly foreign: ForeignLoad;
}

function pathRun(
  path: PathName,
  perSecond: number,
  result: LoadResult,
  cpu: CpuWindow,
): Omit<PathRun, 'eventLoopLagP99Ms'> {
  return {
    path,
    perSecond,
    latencyMs: summarize(result.window.latenciesMs),
    scheduleLagMs: summarize(result.window.scheduleLagMs),
    ok: result.window.ok,
    errors: result.window.errors,
    cpuUsPerCall: (cpu.cpuMs * 1000) / result.window.ok,
    vcpu: cpu.vcpu,
    foreign: cpu.foreign,
  };
}

async function direct(fake: FakeSwf, perSecond: number, windowMs: number, options: LatencyOptions): Promise<PathRun> {
  let cpu: CpuWindow | undefined;
  const result = await runLoad(
    {
      transport: 'swf-sdk',
      target: fake.url,
      delivery: DELIVERY.confirmed,
      tokenPrefix: `latency-direct-${perSecond}-${Date.now()}`,
      mode: 'open',
      ratePerSecond: perSecond,
      warmupMs: options.warmupMs,
      durationMs: windowMs,
      recordLatencies: true,
    },
    {
      onDriverReady: (pid) => (cpu = new CpuWindow(pid)),
      onWindowStart: () => cpu?.start(),
      onWindowEnd: () => cpu?.stop(),
    },
    {
      AWS_ENDPOINT_URL_SWF: fake.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    },
  );
  if (cpu === undefined) throw new Error('driver never reported ready');
  return pathRun('direct', perSecond, result, cpu);
}

async function throughRelay(
  fake: FakeSwf,
  perSecond: number,
  windowMs: number,
  options: LatencyOptions,
): Promise<PathRun> {
  const relay = await startBareServer(process.execPath, fake.url);
  try {
    const cpu = new CpuWindow(relay.pid);
    const result = await runLoad(
      {
        transport: 'grpc',
        target: relay.address,
        delivery: DELIVERY.confirmed,
        tokenPrefix: `latency-relay-${perSecond}-${Date.now()}`,
        mode: 'open',
        ratePerSecond: perSecond,
        connections: 1,
        warmupMs: options.warmupMs,
        durationMs: windowMs,
        recordLatencies: true,
      },
      { onWindowStart: () => cpu.start(), onWindowEnd: () => cpu.stop() },
    );
    return pathRun('relay', perSecond, result, cpu);
  } finally {
    await relay.stop();
  }
}

/** The medians over rounds of one path's figures, in PathRun's shape (foreign: the worst round's). */
function medianRun(runs: readonly PathRun[]): PathRun {
  const first = runs[0];
  if (first === undefined) throw new Error('no rounds');
  const m = (pick: (run: PathRun) => number): number => median(runs.map(pick));
  const worst = runs.reduce((a, b) => (b.foreign.vcpu > a.foreign.vcpu ? b : a), first);
  return {
    ...first,
    latencyMs: {
      count: m((r) => r.latencyMs.count),
      mean: m((r) => r.latencyMs.mean),
      p50: m((r) => r.latencyMs.p50),
      p90: m((r) => r.latencyMs.p90),
      p99: m((r) => r.latencyMs.p99),
      p999: m((r) => r.latencyMs.p999),
      max: m((r) => r.latencyMs.max),
    },
    ok: runs.reduce((total, r) => total + r.ok, 0),
    errors: runs.reduce((total, r) => total + r.errors, 0),
    cpuUsPerCall: m((r) => r.cpuUsPerCall),
    vcpu: m((r) => r.vcpu),
    foreign: worst.foreign,
  };
}

async function throughSidecar(
  fake: FakeSwf,
  perSecond: number,
  windowMs: number,
  options: LatencyOptions,
): Promise<PathRun> {
  const sidecar = await startSidecar(sidecarEnv(fake.url, UNLIMITED), `latency-${perSecond}`);
  try {
    const cpu = new CpuWindow(sidecar.pid);
    const metricsAddress = sidecar.metricsAddress ?? '';
    await scrapeMetrics(metricsAddress); // resets the event-loop delay histogram
    const result = await runLoad(
      {
        transport: 'grpc',
        target: sidecar.address,
        delivery: DELIVERY.confirmed,
        tokenPrefix: `latency-sidecar-${perSecond}-${Date.now()}`,
        mode: 'open',
        ratePerSecond: perSecond,
        connections: 1,
        warmupMs: options.warmupMs,
        durationMs: windowMs,
        recordLatencies: true,
      },
      { onWindowStart: () => cpu.start(), onWindowEnd: () => cpu.stop() },
    );
    const metrics = await scrapeMetrics(metricsAddress);
    return {
      ...pathRun('sidecar', perSecond, result, cpu),
      eventLoopLagP99Ms: metricValue(metrics, 'nodejs_eventloop_lag_p99_seconds') * 1000,
    };
  } finally {
    await sidecar.stop();
  }
}

export async function measureLatency(
  fake: FakeSwf,
  options: LatencyOptions = LATENCY_DEFAULTS,
): Promise<MeasurementResult> {
  const paths: Record<PathName, typeof direct> = { direct, relay: throughRelay, sidecar: throughSidecar };
  const rounds: { perSecond: number; runs: Record<PathName, PathRun[]> }[] = [];
  for (const { perSecond, windowMs } of options.rates) {
    const runs: Record<PathName, PathRun[]> = { direct: [], relay: [], sidecar: [] };
    for (let round = 0; round < options.rounds; round += 1) {
      for (const name of ['direct', 'relay', 'sidecar'] as const) {
        const run = await quietRun(() => {
          fake.reset();
          return paths[name](fake, perSecond, windowMs, options);
        });
        runs[name].push(run);
      }
    }
    rounds.push({ perSecond, runs });
  }
  const pairs = rounds.map(({ perSecond, runs }) => ({
    perSecond,
    direct: medianRun(runs.direct),
    relay: medianRun(runs.relay),
    sidecar: medianRun(runs.sidecar),
    p99sByRound: {
      direct: runs.direct.map((r) => r.latencyMs.p99),
      relay: runs.relay.map((r) => r.latencyMs.p99),
      sidecar: runs.sidecar.map((r) => r.latencyMs.p99),
    },
  }));

  const rows: Row[] = [];
  for (const { perSecond, direct: d, relay, sidecar: s } of pairs) {
    const addedP90 = s.latencyMs.p90 - d.latencyMs.p90;
    const addedP99 = s.latencyMs.p99 - d.latencyMs.p99;
    const ok = addedP90 <= 0.5 && addedP99 <= 1 && s.errors === 0 && d.errors === 0;
    const over: string[] = [];
    if (addedP90 > 0.5) over.push(`p90 ${ms(addedP90 - 0.5)} over`);
    if (addedP99 > 1) over.push(`p99 ${ms(addedP99 - 1)} over`);
    if (s.errors + d.errors > 0) over.push(`${s.errors + d.errors} calls failed`);
    rows.push({
      id: '2',
      what: `added latency a hop, CONFIRMED at ${perSecond}/s, 1 KB details (medians of ${options.rounds} rounds)`,
      sidecar: `p50/p90/p99 ${fixed(s.latencyMs.p50)}/${fixed(s.latencyMs.p90)}/${fixed(s.latencyMs.p99)} ms${disturbedNote(s.foreign, d.foreign)}`,
      baseline: `direct SDK ${fixed(d.latencyMs.p50)}/${fixed(d.latencyMs.p90)}/${fixed(d.latencyMs.p99)} ms (bare grpc-js relay, not graded: p90/p99 ${signed(relay.latencyMs.p90 - d.latencyMs.p90)}/${signed(relay.latencyMs.p99 - d.latencyMs.p99)} ms)`,
      figure: `${signed(s.latencyMs.p50 - d.latencyMs.p50)}/${signed(addedP90)}/${signed(addedP99)} ms`,
      target: 'p90 <= +0.5 ms, p99 <= +1 ms',
      verdict: ok ? 'pass' : 'miss',
      ...(ok ? {} : { missBy: over.join(', ') }),
    });
  }
  for (const { perSecond, direct: d, sidecar: s } of pairs) {
    const r = s.cpuUsPerCall / d.cpuUsPerCall;
    rows.push({
      id: '3b',
      what: `CPU per forwarded call at ${perSecond}/s`,
      sidecar: `${us(s.cpuUsPerCall)}${disturbedNote(s.foreign, d.foreign)}`,
      baseline: `direct SDK client ${us(d.cpuUsPerCall)}`,
      figure: ratio(r),
      target: '<= 1.20x',
      verdict: r <= 1.2 ? 'pass' : 'miss',
      ...(r <= 1.2
        ? {}
        : { missBy: `${percent(r / 1.2 - 1, 0)} over; ${us(s.cpuUsPerCall - d.cpuUsPerCall)} more a call` }),
    });
  }
  return { id: '2', title: 'latency and CPU a forwarded call', rows, raw: { options, pairs, rounds } };
}
