/**
 * Measurement 3c: the sidecar's CPU (in cores) while it takes 1000 QUEUED calls/s and forwards
 * 200/s (the limiter at SWF's quota), so its queue grows by 800 a second. The bare server at the
 * same 1000 calls/s is measured alongside, to show how much of the figure gRPC itself costs, and
 * (ungraded) a bare node:http2 responder without grpc-js: the least any Node.js front end costs.
 */
import type { MeasurementResult, Row } from './report.js';
import { fixed, percent, perSecond, ratio } from './support/format.js';
import { runLoad } from './support/load-driver-client.js';
import { metricValue, scrapeMetrics } from './support/metrics-scrape.js';
import { DELIVERY } from './support/payload.js';
import { CpuWindow } from './support/proc.js';
import {
  sidecarEnv,
  startBareForwarder,
  startBareHttp2Responder,
  startBareServer,
  startSidecar,
  type ServerProcess,
} from './support/servers.js';
import { LIMITER_AT_QUOTA, SWF_RATE_PER_SECOND, UNBOUNDED_QUEUE } from './support/sidecar-settings.js';
import type { FakeSwf } from '../test/support/fake-swf.js';
import { disturbedNote, quietRun } from './support/quiet-retry.js';
import type { ForeignLoad } from './support/proc.js';

export interface BacklogOptions {
  readonly intakePerSecond: number;
  readonly warmupMs: number;
  readonly windowMs: number;
}

export const BACKLOG_DEFAULTS: BacklogOptions = { intakePerSecond: 1000, warmupMs: 2_000, windowMs: 10_000 };

const TARGET_VCPU = 0.15;

async function run(
  server: ServerProcess,
  fake: FakeSwf,
  options: BacklogOptions,
  window: { onStart?(): void; onStop?(): void } = {},
): Promise<{
  vcpu: number;
  accepted: number;
  forwardedPerSecond: number;
  errors: number;
  eventLoopLagP99Ms?: number;
  foreign: ForeignLoad;
}> {
  const cpu = new CpuWindow(server.pid);
  let forwardedAtStart = 0;
  let forwardedAtEnd = 0;
  if (server.metricsAddress !== undefined) await scrapeMetrics(server.metricsAddress);
  const result = await runLoad(
    {
      transport: 'grpc',
      target: server.address,
      delivery: DELIVERY.queued,
      tokenPrefix: `backlog-${server.kind}-${Date.now()}`,
      mode: 'open',
      ratePerSecond: options.intakePerSecond,
      connections: 1,
      warmupMs: options.warmupMs,
      durationMs: options.windowMs,
    },
    {
      onWindowStart: () => {
        cpu.start();
        window.onStart?.();
        forwardedAtStart = fake.accepted().length;
      },
      onWindowEnd: () => {
        cpu.stop();
        window.onStop?.();
        forwardedAtEnd = fake.accepted().length;
      },
    },
  );
  const lag =
    server.metricsAddress === undefined
      ? {}
      : {
          eventLoopLagP99Ms:
            metricValue(await scrapeMetrics(server.metricsAddress), 'nodejs_eventloop_lag_p99_seconds') * 1000,
        };
  return {
    vcpu: cpu.vcpu,
    accepted: result.window.ok,
    errors: result.window.errors,
    forwardedPerSecond: (forwardedAtEnd - forwardedAtStart) / (cpu.wallMs / 1000),
    foreign: cpu.foreign,
    ...lag,
  };
}

export async function measureBacklogCpu(
  fake: FakeSwf,
  options: BacklogOptions = BACKLOG_DEFAULTS,
): Promise<MeasurementResult> {
  const sidecar = await quietRun(async () => {
    fake.reset();
    const server = await startSidecar(sidecarEnv(fake.url, { ...LIMITER_AT_QUOTA, ...UNBOUNDED_QUEUE }), 'backlog');
    try {
      return await run(server, fake, options);
    } finally {
      await server.stop();
    }
  });
  // The floor: the bare server taking the same intake while a bare Node HTTP client sends 200/s
  // to the same fake SWF, each in its own process, measured over the same window.
  const bare = await quietRun(async () => {
    const server = await startBareServer();
    const forwarder = await startBareForwarder(fake.url, SWF_RATE_PER_SECOND);
    const forwarderCpu = new CpuWindow(forwarder.pid);
    try {
      const measured = await run(server, fake, options, {
        onStart: () => forwarderCpu.start(),
        onStop: () => forwarderCpu.stop(),
      });
      return { ...measured, forwarderVcpu: forwarderCpu.vcpu };
    } finally {
      await forwarder.stop();
      await server.stop();
    }
  });
  // Ungraded: node:http2 with a constant answer, no grpc-js, at the same intake. With the bare
  // forwarder's CPU it is what any Node.js sidecar would cost here before doing anything.
  const http2 = await quietRun(async () => {
    const server = await startBareHttp2Responder();
    try {
      return await run(server, fake, options);
    } finally {
      await server.stop();
    }
  });
  const floor = bare.vcpu + bare.forwarderVcpu;
  const http2Floor = http2.vcpu + bare.forwarderVcpu;
  const ok = sidecar.vcpu <= TARGET_VCPU && sidecar.errors === 0;
  const rows: Row[] = [
    {
      id: '3c',
      what: `CPU at ${options.intakePerSecond}/s QUEUED intake, 200/s forwarded`,
      sidecar: `${fixed(sidecar.vcpu, 3)} vCPU (forwarding ${perSecond(sidecar.forwardedPerSecond)})${disturbedNote(sidecar.foreign, bare.foreign)}`,
      baseline:
        `bare grpc-js ${fixed(bare.vcpu, 3)} + bare Node HTTP client at 200/s ${fixed(bare.forwarderVcpu, 3)} = floor ${fixed(floor, 3)} vCPU` +
        `; ungraded: node:http2 without grpc-js ${fixed(http2.vcpu, 3)} + that client = ${fixed(http2Floor, 3)} vCPU` +
        (http2.errors > 0 ? ` (${http2.errors} calls failed)` : ''),
      figure: `${fixed(sidecar.vcpu, 3)} vCPU (${ratio(sidecar.vcpu / floor)} the floor)`,
      target: `<= ${TARGET_VCPU} vCPU`,
      verdict: ok ? 'pass' : 'miss',
      ...(ok
        ? {}
        : {
            missBy:
              sidecar.errors > 0
                ? `${sidecar.errors} calls failed`
                : `${percent(sidecar.vcpu / TARGET_VCPU - 1, 0)} over (+${fixed(sidecar.vcpu - TARGET_VCPU, 3)} vCPU)`,
          }),
    },
  ];
  return {
    id: '3c',
    title: 'CPU with a growing backlog',
    rows,
    raw: { options, sidecar, bare, floor, http2, http2Floor },
  };
}
