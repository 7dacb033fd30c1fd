/**
 * Not one of the graded measurements: what the garbage collector does to a sidecar taking
 * CONFIRMED calls at a fixed rate (measurement 2's load, one path), next to the call latencies,
 * to read where p99 goes (bench/RESULTS.md). Each round is a fresh sidecar with `--trace-gc`,
 * 2 s of warm-up, then 6 s measured: scavenges and mark-compacts counted from V8's trace lines
 * in the window, with their pauses. `--heap` also samples every allocation of the first round
 * (collected ones included) and prints where the garbage comes from; sampling slows that round,
 * so its latencies and pauses are not the ones to read. `--relay` runs measurement 2's bare
 * grpc-js relay (bench/support/bare-server.mjs forwarding with node:http) before the sidecar in
 * each round, traced the same way, for the same figures of a hop that does only the forwarding.
 *
 *   npm run build && node --import tsx bench/gc-pauses.ts [RATE=1000] [ROUNDS=2] [--heap] [--relay]
 *
 * BENCH_SIDECAR_NODE_ARGS adds node/V8 flags to the sidecar's, as in the bench;
 * GC_PAUSES_WARMUP_MS sets the warm-up (2000 by default, measurement 2's).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatHeapSummary, readHeapProfile, summariseHeapProfile } from './support/heap-profile-top.js';
import { runLoad } from './support/load-driver-client.js';
import { DELIVERY } from './support/payload.js';
import { sidecarEnv, startBareServer, startSidecar } from './support/servers.js';
import { percentile } from './support/stats.js';
import { FakeSwf } from '../test/support/fake-swf.js';

const WARMUP_MS = Number(process.env['GC_PAUSES_WARMUP_MS'] ?? 2000);
const WINDOW_MS = 6000;
const UNLIMITED = { SWF_SIDECAR_RATE_PER_SECOND: '100000', SWF_SIDECAR_BURST: '100000' } as const;
/** BENCH_SIDECAR_NODE_ARGS as given (servers.ts): flags to try, kept before --trace-gc. */
const EXTRA_SIDECAR_NODE_ARGS = process.env['BENCH_SIDECAR_NODE_ARGS'] ?? '';
const PRELOAD = fileURLToPath(new URL('./support/heap-sampling-preload.mjs', import.meta.url));

interface GcPause {
  readonly kind: 'scavenge' | 'mark-compact';
  readonly pauseMs: number;
}

/** `[pid:0x…]  2430 ms: Scavenge 31.2 (49.6) -> 17.3 (49.6) MB, 3.00 / 0.00 ms  …` */
function parseGcTraceLine(line: string): GcPause | undefined {
  const match = /ms: (Scavenge|Mark-Compact|Mark-Sweep|Minor Mark-Sweep)\b.*? MB, ([\d.]+) \/ /.exec(line);
  if (match === null) return undefined;
  return {
    kind: match[1] === 'Scavenge' || match[1] === 'Minor Mark-Sweep' ? 'scavenge' : 'mark-compact',
    pauseMs: Number(match[2]),
  };
}

async function round(
  fake: FakeSwf,
  rate: number,
  path: 'sidecar' | 'relay',
  heapDir: string | undefined,
): Promise<string> {
  process.env['BENCH_BARE_NODE_ARGS'] = '--trace-gc';
  process.env['BENCH_SIDECAR_NODE_ARGS'] =
    `${EXTRA_SIDECAR_NODE_ARGS} --trace-gc` + (heapDir === undefined ? '' : ` --import ${PRELOAD}`);
  // The sidecar's environment is only what it is given (servers.ts), so the preload's settings go here.
  const heapSampling: Record<string, string> =
    heapDir === undefined
      ? {}
      : {
          BENCH_HEAP_SAMPLE_DIR: heapDir,
          BENCH_HEAP_SAMPLE_FROM_MS: String(WARMUP_MS + 1000),
          BENCH_HEAP_SAMPLE_FOR_MS: String(WINDOW_MS - 1000),
        };
  const sidecar =
    path === 'relay'
      ? await startBareServer(process.execPath, fake.url)
      : await startSidecar({ ...sidecarEnv(fake.url, UNLIMITED), ...heapSampling }, `gc-pauses-${rate}`);
  let first = 0;
  let last = 0;
  try {
    const result = await runLoad(
      {
        transport: 'grpc',
        target: sidecar.address,
        delivery: DELIVERY.confirmed,
        tokenPrefix: `gc-pauses-${rate}-${Date.now()}`,
        mode: 'open',
        ratePerSecond: rate,
        connections: 1,
        warmupMs: WARMUP_MS,
        durationMs: WINDOW_MS,
        recordLatencies: true,
      },
      { onWindowStart: () => (first = sidecar.output.length), onWindowEnd: () => (last = sidecar.output.length) },
    );
    const pauses = sidecar.output.slice(first, last).flatMap((line) => parseGcTraceLine(line) ?? []);
    const latencies = [...result.window.latenciesMs].sort((a, b) => a - b);
    const lag = [...result.window.scheduleLagMs].sort((a, b) => a - b);
    const describe = (kind: GcPause['kind']): string => {
      const ms = pauses.filter((p) => p.kind === kind).map((p) => p.pauseMs);
      if (ms.length === 0) return `0 ${kind}s`;
      return `${ms.length} ${kind}s (${Math.min(...ms).toFixed(1)}-${Math.max(...ms).toFixed(1)} ms, ${ms.reduce((a, b) => a + b, 0).toFixed(1)} ms in all)`;
    };
    return (
      `p50/p90/p99 ${[50, 90, 99].map((p) => percentile(latencies, p).toFixed(2)).join('/')} ms ` +
      `(the load generator's own schedule lag p99 ${percentile(lag, 99).toFixed(2)} ms); ` +
      `in ${WINDOW_MS / 1000} s: ${describe('scavenge')}, ${describe('mark-compact')}`
    );
  } finally {
    await sidecar.stop();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const heap = args.includes('--heap');
  const relay = args.includes('--relay');
  const [rate = 1000, rounds = 2] = args.filter((a) => !a.startsWith('--')).map(Number);
  const fake = await FakeSwf.start();
  const heapDir = heap ? mkdtempSync(join(tmpdir(), 'swf-sidecar-heap-')) : undefined;
  try {
    for (let i = 0; i < rounds; i++) {
      for (const path of relay ? (['relay', 'sidecar'] as const) : (['sidecar'] as const)) {
        const figures = await round(fake, rate, path, path === 'sidecar' && i === 0 ? heapDir : undefined);
        console.log(`round ${i + 1}, ${path}, ${rate} CONFIRMED calls/s: ${figures}`);
      }
    }
    if (heapDir !== undefined) {
      const file = readdirSync(heapDir).find((name) => name.endsWith('.heapprofile'));
      if (file === undefined) throw new Error('the sidecar wrote no heap profile');
      const summary = summariseHeapProfile(readHeapProfile(join(heapDir, file)));
      const perCall = summary.totalBytes / (rate * ((WINDOW_MS - 1000) / 1000));
      console.log(`\nround 1's allocations, about ${(perCall / 1000).toFixed(0)} KB a call:`);
      console.log(formatHeapSummary(summary, 20));
    }
  } finally {
    await fake.close();
    if (heapDir !== undefined) rmSync(heapDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) await main();
