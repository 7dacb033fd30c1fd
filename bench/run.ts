/**
 * `npm run bench`: every measurement of the performance issue, one after the other, on this
 * machine (about four minutes on 2 cores). Prints the table, writes the raw figures to
 * bench/results.json and the table into bench/RESULTS.md (between its markers; the analysis
 * around them is kept).
 *
 *   npm run bench                      everything, RESULTS.md updated
 *   npm run bench -- --only=1,5        some measurements (1, 2, 3c, 4, 5, 6, 7, 8, 9, 9c, 10); RESULTS.md untouched
 *   BENCH_CPU_PROF=1 npm run bench ... each sidecar also writes a V8 CPU profile to
 *                                      .tmp/bench-profiles/ (read with bench/support/cpuprofile-top.ts)
 *
 * Every process under test, every load generator and the fake SWF are separate processes on
 * 127.0.0.1 (the fake runs in this one, which does nothing else while a window is measured).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FakeSwf } from '../test/support/fake-swf.js';
import { measureBacklogCpu } from './backlog-cpu.js';
import { measureCliWallTime } from './cli-wall-time.js';
import { measureFleet } from './fleet.js';
import { measureIdle } from './idle.js';
import { measureIdleContainer } from './idle-container.js';
import { measureIntake } from './intake.js';
import { measureLatency } from './latency.js';
import { measureMemory } from './memory.js';
import { measureRateAccuracy } from './rate-accuracy.js';
import { machineInfo, textTable, updateResultsMarkdown, type MeasurementResult, type Row } from './report.js';
import { measureStartup } from './startup.js';
import { PAYLOAD } from './support/payload.js';
import { ForeignLoadWindow, takeForeignLoadLog, type ForeignLoad } from './support/proc.js';
import { FOREIGN_LOAD_LIMIT_VCPU } from './support/quiet-retry.js';
import { measureThrottledGoodput } from './throttled-goodput.js';

const RESULTS_JSON = fileURLToPath(new URL('./results.json', import.meta.url));
const RESULTS_MD = fileURLToPath(new URL('./RESULTS.md', import.meta.url));

/** In the order they run: start-up first, while the machine is quiet. */
const MEASUREMENTS: readonly { id: string; run: (fake: FakeSwf) => Promise<MeasurementResult> }[] = [
  { id: '7', run: measureStartup },
  { id: '1', run: measureIntake },
  { id: '2', run: measureLatency },
  { id: '3c', run: measureBacklogCpu },
  { id: '4', run: measureMemory },
  { id: '5', run: measureRateAccuracy },
  { id: '6', run: measureThrottledGoodput },
  { id: '8', run: measureFleet },
  { id: '9', run: measureIdle },
  { id: '9c', run: measureIdleContainer },
  { id: '10', run: measureCliWallTime },
];

const ROW_ORDER = ['1', '2', '3a', '3b', '3c', '4', '5', '6', '7', '8a', '8b', '9', '9c'];

const NOTES = [
  `Every call carries a distinct ${PAYLOAD.tokenChars}-character task token, a ${PAYLOAD.reason.length}-character reason and ${PAYLOAD.detailsChars} characters of details, to the sidecar and to its baselines alike.`,
  'The load generator (bench/support/load-driver.mjs) is its own process: node:http2 with hand-made gRPC frames for the sidecar and the bare grpc-js server, @aws-sdk/client-swf for the direct baseline. CPU figures are utime+stime of the measured server process only (/proc/PID/stat), over the measured window.',
  '1 and 3a: closed loop, 2 connections x 64 calls in flight, 1.5 s warm-up then 5 s measured, bare and sidecar alternately, 2 rounds each, a fresh process each time. When the bare server is below 0.9 vCPU it was not the bottleneck (the generator and the kernel share the 2 cores), so 1 is graded on CPU per call.',
  "2 and 3b: open loop at a fixed rate, 2 s warm-up, then 10 s (200/s) or 6 s (1000/s) measured; latency from the start of each call to its answer, in the client; the fake SWF answers at once. The sidecar limiter is set far above the offered load. Each rate runs five rounds of the direct SDK, a bare grpc-js relay (bench/support/bare-server.mjs forwarding with plain `node:http`; shown, not graded) and the sidecar, alternated; the figures are the medians of each path's per-round percentiles and CPU. Every sidecar runs with the node flags of the Dockerfile's ENTRYPOINT.",
  '3c: open loop at 1000 QUEUED calls/s with the limiter at 200/s, 2 s warm-up then 10 s measured. The floor is what the same work costs two bare processes in one window: the bare grpc-js server taking the same intake, plus bench/support/bare-forwarder.mjs, plain `node:http` POSTs of the same payload to the same fake SWF at 200/s in groups every 50 ms (no signing, queue or metrics).',
  '4: the limiter at 0.001/s with a burst of 1, so the 50,000 reports stay queued; RSS read 2 s after the last was accepted.',
  "8: fleet mode against a redis-server on loopback. 8a: 4 sidecars, each with 600 QUEUED reports, share a fleet rate of 200/s; Redis's own command count (INFO commandstats) over 6 s of the drain, per sidecar, against each sidecar's SWF calls. 8b: measurement 1's closed loop against one sidecar with fleet mode off, on, on, off, off, on (fleet rate 200/s), graded on the median of each mode's server CPU per accepted call.",
  "9: three sidecars (default settings) and three bare grpc-js servers started together on each Node.js (the machine's, and the container image's Node 24), graded on the medians of each kind (one process's anonymous RSS moves 2-3 MB between identical starts), left alone 30 s, then 60 s with no call and no scrape: CPU from /proc/PID/task/*/schedstat, wake-ups of the main thread (voluntary context switches), anonymous RSS (RssAnon) at the end. 9c: the same for the image as the chart runs it (podman, read-only, no capabilities, host network, the journal volume on), measured from the host's /proc, against the bare server on the image's Node 24 as a host process.",
  "10: one `respond-activity-task-failed` from spawn to exit, the installed AWS CLI against moto_server and ours through a sidecar in front of the same moto, alternating, after one warm-up call each; every call fails a real open task (checked in moto's history). AWS_CLI=/path measures another AWS CLI.",
  'Ratios compare figures measured in the same run; absolute times and sizes (3c, 4, 7) are of this machine only.',
];

function parseOnly(argv: readonly string[]): Set<string> | undefined {
  const arg = argv.find((a) => a.startsWith('--only='));
  return arg === undefined ? undefined : new Set(arg.slice('--only='.length).split(','));
}

async function main(): Promise<void> {
  const only = parseOnly(process.argv.slice(2));
  const startedMs = performance.now();
  const machine = machineInfo();
  process.stdout.write(`swf-sidecar bench: ${machine.cpu}, ${machine.cores} vCPU, Node ${machine.node}\n`);
  const fake = await FakeSwf.start();
  const results: MeasurementResult[] = [];
  const foreign: Record<
    string,
    { wholeMeasurement: ForeignLoad; busiestWindow: ForeignLoad | undefined; disturbedWindows: number }
  > = {};
  try {
    for (const measurement of MEASUREMENTS) {
      if (only !== undefined && !only.has(measurement.id)) continue;
      const t0 = performance.now();
      process.stdout.write(`measurement ${measurement.id} ... `);
      const whole = new ForeignLoadWindow();
      takeForeignLoadLog();
      whole.start();
      const result = await measurement.run(fake);
      whole.stop();
      const windows = takeForeignLoadLog().filter((w) => w !== whole.result);
      const busiest = windows.sort((a, b) => b.vcpu - a.vcpu)[0];
      const disturbedWindows = windows.filter((w) => w.vcpu > FOREIGN_LOAD_LIMIT_VCPU).length;
      foreign[measurement.id] = { wholeMeasurement: whole.result, busiestWindow: busiest, disturbedWindows };
      fake.reset();
      results.push(result);
      const worst = Math.max(whole.result.vcpu, busiest?.vcpu ?? 0);
      const warning =
        worst > FOREIGN_LOAD_LIMIT_VCPU
          ? `  (other processes used up to ${worst.toFixed(2)} vCPU meanwhile: ${(busiest ?? whole.result).top.join(', ')}; ${disturbedWindows} window(s) measured again)`
          : '';
      process.stdout.write(`${((performance.now() - t0) / 1000).toFixed(1)} s${warning}\n`);
    }
  } finally {
    await fake.close();
  }
  const rows: Row[] = results.flatMap((r) => r.rows).sort((a, b) => ROW_ORDER.indexOf(a.id) - ROW_ORDER.indexOf(b.id));
  const wallSeconds = (performance.now() - startedMs) / 1000;
  process.stdout.write(`\n${textTable(rows)}\n\ntotal ${wallSeconds.toFixed(0)} s\n`);

  writeFileSync(
    RESULTS_JSON,
    `${JSON.stringify(
      {
        machine,
        wallSeconds,
        payload: PAYLOAD,
        rows,
        foreignLoad: foreign,
        measurements: Object.fromEntries(results.map((r) => [r.id, r.raw])),
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`raw figures: ${RESULTS_JSON}\n`);
  const noisy = Object.entries(foreign)
    .map(([id, f]) => ({ id, ...f, vcpu: Math.max(f.wholeMeasurement.vcpu, f.busiestWindow?.vcpu ?? 0) }))
    .filter((f) => f.vcpu > FOREIGN_LOAD_LIMIT_VCPU);
  const noiseNote =
    noisy.length === 0
      ? `No other process used more than ${FOREIGN_LOAD_LIMIT_VCPU} vCPU during any measurement.`
      : `Other processes on this shared machine were busy during measurements ${noisy
          .map((n) => `${n.id} (up to ${n.vcpu.toFixed(2)} vCPU; ${n.disturbedWindows} measured window(s) disturbed)`)
          .join('; ')}. CPU-timed windows (1, 2, 3c) are measured again, up to 3 times, while disturbed; ` +
        'results.json gives the other load of every window kept.';
  if (only === undefined) {
    updateResultsMarkdown(RESULTS_MD, machine, rows, wallSeconds, [...NOTES, noiseNote]);
    process.stdout.write(`table: ${RESULTS_MD}\n`);
  }
}

await main();
