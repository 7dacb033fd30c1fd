/**
 * Measurement 7: from `spawn()` of `bin/swf-sidecar.js serve` to the first SERVING answer of
 * grpc.health.v1.Health/Check, polled every 5 ms; the bare grpc-js server (same health service)
 * is started the same way, alternately, as the floor set by Node and grpc-js.
 */
import type { MeasurementResult, Row } from './report.js';
import { ms, percent, ratio } from './support/format.js';
import { startBareServer, startSidecar } from './support/servers.js';
import { median } from './support/stats.js';
import type { FakeSwf } from '../test/support/fake-swf.js';

export interface StartupOptions {
  readonly rounds: number;
}

export const STARTUP_DEFAULTS: StartupOptions = { rounds: 5 };

const TARGET_MS = 1_000;

export async function measureStartup(
  fake: FakeSwf,
  options: StartupOptions = STARTUP_DEFAULTS,
): Promise<MeasurementResult> {
  const sidecarMs: number[] = [];
  const bareMs: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    // The sidecar's default settings, as deployed: only addresses and the endpoint differ.
    const sidecar = await startSidecar({ AWS_ENDPOINT_URL_SWF: fake.url }, `startup-${round}`);
    sidecarMs.push(sidecar.startupMs);
    await sidecar.stop();
    const bare = await startBareServer();
    bareMs.push(bare.startupMs);
    await bare.stop();
  }
  const worst = Math.max(...sidecarMs);
  const mid = median(sidecarMs);
  const ok = worst <= TARGET_MS;
  const rows: Row[] = [
    {
      id: '7',
      what: `start-up, spawn to health SERVING (${options.rounds} starts)`,
      sidecar: `median ${ms(mid, 0)}, worst ${ms(worst, 0)}`,
      baseline: `bare grpc-js median ${ms(median(bareMs), 0)}`,
      figure: `worst ${ms(worst, 0)} (median ${ratio(mid / median(bareMs))} the bare server)`,
      target: '<= 1 s',
      verdict: ok ? 'pass' : 'miss',
      ...(ok ? {} : { missBy: `${ms(worst - TARGET_MS, 0)} (${percent(worst / TARGET_MS - 1, 0)}) over` }),
    },
  ];
  return { id: '7', title: 'start-up', rows, raw: { options, sidecarMs, bareMs } };
}
