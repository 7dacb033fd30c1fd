/**
 * Measurement 4: resident memory of the sidecar idle after start, and with 50,000 QUEUED reports
 * of 1 KB details waiting (the limiter all but closed, so nothing leaves the queue). The bare
 * server's idle RSS is the floor that Node and grpc-js set.
 */
import type { MeasurementResult, Row } from './report.js';
import { fixed, mib, percent, ratio } from './support/format.js';
import { runLoad } from './support/load-driver-client.js';
import { metricValue, scrapeMetrics } from './support/metrics-scrape.js';
import { DELIVERY } from './support/payload.js';
import { processMemory } from './support/proc.js';
import { sidecarEnv, startBareServer, startSidecar } from './support/servers.js';
import type { FakeSwf } from '../test/support/fake-swf.js';

export interface MemoryOptions {
  readonly reports: number;
  /** How long to leave a process alone before reading its RSS. */
  readonly settleMs: number;
}

export const MEMORY_DEFAULTS: MemoryOptions = { reports: 50_000, settleMs: 2_000 };

const MIB = 2 ** 20;
const IDLE_TARGET_BYTES = 60 * MIB;
const LOADED_TARGET_BYTES = 250 * MIB;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function measureMemory(
  fake: FakeSwf,
  options: MemoryOptions = MEMORY_DEFAULTS,
): Promise<MeasurementResult> {
  fake.reset();
  const bare = await startBareServer();
  let bareIdle;
  try {
    await sleep(options.settleMs);
    bareIdle = processMemory(bare.pid);
  } finally {
    await bare.stop();
  }

  const sidecar = await startSidecar(
    sidecarEnv(fake.url, {
      // One call may leave (burst 1); the next permit comes after 1000 s, so the rest wait.
      SWF_SIDECAR_RATE_PER_SECOND: '0.001',
      SWF_SIDECAR_BURST: '1',
      SWF_SIDECAR_MAX_QUEUE_ITEMS: String(options.reports * 2),
      SWF_SIDECAR_MAX_QUEUE_BYTES: String(2 ** 30),
    }),
    'memory',
  );
  let idle;
  let loaded;
  let waiting;
  let accepted;
  let heapUsedBytes: number;
  try {
    await sleep(options.settleMs);
    idle = processMemory(sidecar.pid);
    const result = await runLoad({
      transport: 'grpc',
      target: sidecar.address,
      delivery: DELIVERY.queued,
      tokenPrefix: `memory-${Date.now()}`,
      mode: 'closed',
      connections: 2,
      concurrency: 64,
      warmupMs: 0,
      durationMs: Number.POSITIVE_INFINITY,
      count: options.reports,
    });
    accepted = result.codes['0'] ?? 0;
    await sleep(options.settleMs);
    loaded = processMemory(sidecar.pid);
    const metrics = await scrapeMetrics(sidecar.metricsAddress ?? '');
    waiting = metricValue(metrics, 'swf_sidecar_queue_items');
    heapUsedBytes = metricValue(metrics, 'nodejs_heap_size_used_bytes');
  } finally {
    await sidecar.stop();
  }

  const perReport = (loaded.rssBytes - idle.rssBytes) / waiting;
  const idleOk = idle.rssBytes <= IDLE_TARGET_BYTES;
  const loadedOk = loaded.rssBytes <= LOADED_TARGET_BYTES && accepted === options.reports;
  const rows: Row[] = [
    {
      id: '4',
      what: 'RSS idle after start',
      sidecar: mib(idle.rssBytes),
      baseline: `bare grpc-js ${mib(bareIdle.rssBytes)}`,
      figure: `${mib(idle.rssBytes)} (${ratio(idle.rssBytes / bareIdle.rssBytes)} the bare server; own pages ${mib(idle.anonRssBytes)} vs ${mib(bareIdle.anonRssBytes)})`,
      target: '<= 60 MB',
      verdict: idleOk ? 'pass' : 'miss',
      ...(idleOk
        ? {}
        : {
            missBy: `${mib(idle.rssBytes - IDLE_TARGET_BYTES)} (${percent(idle.rssBytes / IDLE_TARGET_BYTES - 1, 0)}) over`,
          }),
    },
    {
      id: '4',
      what: `RSS with ${options.reports.toLocaleString('en-US')} QUEUED reports of 1 KB waiting`,
      sidecar: `${mib(loaded.rssBytes)} (peak ${mib(loaded.peakRssBytes)}; JS heap in use ${mib(heapUsedBytes)}), ${waiting.toLocaleString('en-US')} waiting`,
      baseline: '-',
      figure: `${mib(loaded.rssBytes)}; ${fixed(perReport / 1024, 1)} KB a waiting report`,
      target: '<= 250 MB',
      verdict: loadedOk ? 'pass' : 'miss',
      ...(loadedOk
        ? {}
        : {
            missBy:
              accepted !== options.reports
                ? `only ${accepted} of ${options.reports} accepted`
                : `${mib(loaded.rssBytes - LOADED_TARGET_BYTES)} (${percent(loaded.rssBytes / LOADED_TARGET_BYTES - 1, 0)}) over`,
          }),
    },
  ];
  return {
    id: '4',
    title: 'memory',
    rows,
    raw: { options, bareIdle, idle, loaded, heapUsedBytes, waiting, accepted, bytesPerWaitingReport: perReport },
  };
}
