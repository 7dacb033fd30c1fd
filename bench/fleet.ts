/**
 * Measurement 8, fleet mode (SWF_SIDECAR_REDIS_URL), against a real redis-server started here on
 * a free loopback port:
 *
 * - 8a: Redis commands per second per sidecar at the fleet rate. Four sidecars share a fleet
 *   rate of 200/s (50/s each) with a backlog that keeps them all busy; over the middle of the
 *   drain, Redis's own count of the commands clients sent (INFO commandstats; one lease is one
 *   EVALSHA, whose script runs TIME, HMGET, HSET and PEXPIRE inside), per sidecar, against each
 *   sidecar's SWF calls. Target: at most a tenth of a sidecar's SWF calls.
 * - 8b: intake CPU per call with fleet mode on against off: the closed-loop QUEUED intake of
 *   measurement 1 (limiter at 200/s, fleet rate 200/s), off, on, on, off, off, on, each in a
 *   fresh process; the median of each mode's server CPU per accepted call. Target: on at most
 *   1.1x off. Three rounds and medians, because one of four runs alone moved the mean of two by
 *   more than the 10% being graded (79, 91, 76, 63 µs a call, 2026-12-07).
 */
import type { MeasurementResult, Row } from './report.js';
import { fixed, perSecond, ratio, us } from './support/format.js';
import { runLoad } from './support/load-driver-client.js';
import { metricValue, scrapeMetrics } from './support/metrics-scrape.js';
import { DELIVERY } from './support/payload.js';
import { CpuWindow, type ForeignLoad } from './support/proc.js';
import { disturbedNote, quietRun } from './support/quiet-retry.js';
import { sidecarEnv, startSidecar, type ServerProcess } from './support/servers.js';
import { LIMITER_AT_QUOTA, UNBOUNDED_QUEUE } from './support/sidecar-settings.js';
import { mean, median } from './support/stats.js';
import type { FakeSwf } from '../test/support/fake-swf.js';
import { connectClient } from '../test/support/grpc-client.js';
import { startRedisServer, type RedisServer } from '../test/support/redis-server.js';
import { execFileSync } from 'node:child_process';

export interface FleetBenchOptions {
  readonly sidecars: number;
  readonly fleetRatePerSecond: number;
  /** Reports queued per sidecar: enough to keep it busy past the measured window. */
  readonly backlogPerSidecar: number;
  /** The commands window starts this long after the backlog is queued, and lasts windowMs. */
  readonly settleMs: number;
  readonly windowMs: number;
  /** 8b, as measurement 1. */
  readonly intakeWarmupMs: number;
  readonly intakeWindowMs: number;
  readonly intakeRounds: number;
}

export const FLEET_DEFAULTS: FleetBenchOptions = {
  sidecars: 4,
  fleetRatePerSecond: 200,
  backlogPerSidecar: 600,
  settleMs: 2_000,
  windowMs: 6_000,
  intakeWarmupMs: 1_500,
  intakeWindowMs: 5_000,
  intakeRounds: 3,
};

const COMMANDS_TARGET = 0.1;
const CPU_TARGET = 1.1;

/** What the lease script runs inside Redis: counted by commandstats, but no round trip of their own. */
const SCRIPT_INNER_COMMANDS = new Set(['time', 'hmget', 'hset', 'pexpire']);

/**
 * Commands clients sent Redis so far: INFO commandstats, less the commands the lease script runs
 * inside (one EVALSHA is one command sent, one script run) and this script's own INFO calls.
 */
function redisCommands(redis: RedisServer): number {
  const info = execFileSync('redis-cli', ['-p', String(redis.port), 'INFO', 'commandstats'], { encoding: 'utf8' });
  let calls = 0;
  for (const match of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) {
    const name = match[1]!;
    if (SCRIPT_INNER_COMMANDS.has(name) || name === 'info') continue;
    calls += Number(match[2]);
  }
  return calls;
}

function fleetEnv(fake: FakeSwf, redis: RedisServer, rate: number): Record<string, string> {
  return sidecarEnv(fake.url, {
    ...LIMITER_AT_QUOTA,
    ...UNBOUNDED_QUEUE,
    SWF_SIDECAR_REDIS_URL: redis.url,
    SWF_SIDECAR_FLEET_RATE_PER_SECOND: String(rate),
    SWF_SIDECAR_FLEET_BURST: String(rate),
  });
}

interface CommandsRun {
  readonly redisCommandsPerSecondPerSidecar: number;
  readonly swfCallsPerSecondPerSidecar: number[];
  readonly worstRatio: number;
  readonly fleetCallsPerSecond: number;
  readonly foreign: ForeignLoad;
}

async function measureCommands(fake: FakeSwf, redis: RedisServer, options: FleetBenchOptions): Promise<CommandsRun> {
  const sidecars: ServerProcess[] = [];
  try {
    for (let i = 0; i < options.sidecars; i++) {
      sidecars.push(await startSidecar(fleetEnv(fake, redis, options.fleetRatePerSecond), `fleet-${i}`));
    }
    const prefix = `fleet-bench-${Date.now()}`;
    await Promise.all(
      sidecars.map(async (sidecar, i) => {
        const client = connectClient(sidecar.address);
        try {
          for (let k = 0; k < options.backlogPerSidecar; k += 100) {
            const tasks = Array.from({ length: Math.min(100, options.backlogPerSidecar - k) }, (_, j) => ({
              taskToken: `${prefix}-${i}-${k + j}`,
              delivery: DELIVERY.queued,
            }));
            await client.failMany({ tasks });
          }
        } finally {
          client.close();
        }
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, options.settleMs));
    const swfCalls = async (): Promise<number[]> =>
      Promise.all(
        sidecars.map(async (s) =>
          metricValue(await scrapeMetrics(s.metricsAddress ?? ''), 'swf_sidecar_swf_requests_total'),
        ),
      );
    const cpu = new CpuWindow(process.pid);
    cpu.start();
    const commandsBefore = redisCommands(redis);
    const callsBefore = await swfCalls();
    await new Promise((resolve) => setTimeout(resolve, options.windowMs));
    const commandsAfter = redisCommands(redis);
    const callsAfter = await swfCalls();
    cpu.stop();
    const seconds = cpu.wallMs / 1000;
    const commands = commandsAfter - commandsBefore;
    const perSidecar = commands / options.sidecars / seconds;
    const callsPerSecond = callsAfter.map((after, i) => (after - callsBefore[i]!) / seconds);
    return {
      redisCommandsPerSecondPerSidecar: perSidecar,
      swfCallsPerSecondPerSidecar: callsPerSecond,
      worstRatio: perSidecar / Math.min(...callsPerSecond),
      fleetCallsPerSecond: callsPerSecond.reduce((a, b) => a + b, 0),
      foreign: cpu.foreign,
    };
  } finally {
    await Promise.all(sidecars.map((s) => s.stop()));
  }
}

interface IntakeCpuRun {
  readonly fleet: boolean;
  readonly cpuUsPerCall: number;
  readonly callsPerSecond: number;
  readonly errors: number;
  readonly foreign: ForeignLoad;
}

async function intakeCpu(
  fake: FakeSwf,
  redis: RedisServer,
  fleet: boolean,
  options: FleetBenchOptions,
  round: number,
): Promise<IntakeCpuRun> {
  const env = fleet
    ? fleetEnv(fake, redis, options.fleetRatePerSecond)
    : sidecarEnv(fake.url, { ...LIMITER_AT_QUOTA, ...UNBOUNDED_QUEUE });
  const server = await startSidecar(env, `fleet-intake-${fleet ? 'on' : 'off'}-${round}`);
  try {
    const cpu = new CpuWindow(server.pid);
    const result = await runLoad(
      {
        transport: 'grpc',
        target: server.address,
        delivery: DELIVERY.queued,
        tokenPrefix: `fleet-intake-${fleet ? 'on' : 'off'}-${round}-${Date.now()}`,
        mode: 'closed',
        connections: 2,
        concurrency: 64,
        warmupMs: options.intakeWarmupMs,
        durationMs: options.intakeWindowMs,
      },
      { onWindowStart: () => cpu.start(), onWindowEnd: () => cpu.stop() },
    );
    return {
      fleet,
      cpuUsPerCall: (cpu.cpuMs * 1000) / result.window.ok,
      callsPerSecond: result.window.ok / (result.window.elapsedMs / 1000),
      errors: result.window.errors,
      foreign: cpu.foreign,
    };
  } finally {
    await server.stop();
  }
}

export async function measureFleet(
  fake: FakeSwf,
  options: FleetBenchOptions = FLEET_DEFAULTS,
): Promise<MeasurementResult> {
  const redis = await startRedisServer();
  try {
    fake.reset();
    const commands = await quietRun(() => measureCommands(fake, redis, options));
    fake.reset();
    const intake: IntakeCpuRun[] = [];
    for (let round = 0; round < options.intakeRounds; round++) {
      const order = round % 2 === 0 ? [false, true] : [true, false];
      for (const fleet of order) intake.push(await quietRun(() => intakeCpu(fake, redis, fleet, options, round)));
      fake.reset();
    }
    const on = median(intake.filter((r) => r.fleet).map((r) => r.cpuUsPerCall));
    const off = median(intake.filter((r) => !r.fleet).map((r) => r.cpuUsPerCall));
    const cpuRatio = on / off;
    const errors = intake.reduce((n, r) => n + r.errors, 0);
    const callsPerSidecar = mean(commands.swfCallsPerSecondPerSidecar);
    const rows: Row[] = [
      {
        id: '8a',
        what: `Redis commands/s per sidecar, ${options.sidecars} sidecars sharing ${options.fleetRatePerSecond}/s`,
        sidecar: `${fixed(commands.redisCommandsPerSecondPerSidecar, 1)}/s per sidecar${disturbedNote(commands.foreign)}`,
        baseline: `SWF calls ${perSecond(callsPerSidecar)} per sidecar (fleet ${perSecond(commands.fleetCallsPerSecond)})`,
        figure: `${fixed(commands.worstRatio, 3)} commands per SWF call`,
        target: `<= ${COMMANDS_TARGET} per SWF call`,
        verdict: commands.worstRatio <= COMMANDS_TARGET ? 'pass' : 'miss',
        ...(commands.worstRatio <= COMMANDS_TARGET
          ? {}
          : { missBy: `${ratio(commands.worstRatio / COMMANDS_TARGET)} the target` }),
      },
      {
        id: '8b',
        what: 'intake CPU per QUEUED call, fleet mode on vs off',
        sidecar: `${us(on)} per call on${disturbedNote(...intake.map((r) => r.foreign))}`,
        baseline: `${us(off)} per call off`,
        figure: `${ratio(cpuRatio)} the CPU`,
        target: `<= ${CPU_TARGET}x`,
        verdict: cpuRatio <= CPU_TARGET && errors === 0 ? 'pass' : 'miss',
        ...(cpuRatio <= CPU_TARGET
          ? errors > 0
            ? { missBy: `${errors} calls failed` }
            : {}
          : { missBy: `${ratio(cpuRatio / CPU_TARGET)} the target` }),
      },
    ];
    return { id: '8', title: 'fleet mode', rows, raw: { options, commands, intake, on, off, cpuRatio } };
  } finally {
    await redis.stop();
  }
}
