/**
 * Measurement 9: what one idle sidecar costs, the cost a fleet multiplies by its pods. The
 * sidecar (default settings, as deployed) and the bare grpc-js server of the same contract are
 * started together, left alone for `settleSeconds` (start-up's collections and compilations are
 * over, and so are the sidecar's one collection 10 s after ready, src/ops/release-memory.ts, and
 * the two of V8's memory reducer that follow it, about 20 s after ready), then watched for `seconds` with no call and no scrape: CPU time (schedstat, ns), the
 * main thread's wake-ups (voluntary context switches: each is one return from epoll_wait), and
 * at the end anonymous RSS (RssAnon: the process's own pages, not the node binary's shared
 * file pages) and total RSS.
 *
 * Every Node.js in `nodes` is measured in the same window (the machine's, and the container
 * image's Node 24 when scripts/setup has fetched it), so the ratios are of one run. `starts`
 * sidecars and as many bare servers run on each, all idle together, and each figure is graded on
 * the medians: one process's anonymous RSS moves 2 to 3 MB between identical starts (the malloc
 * arenas of V8's threads), as much as the differences measured here.
 *
 *   node --import tsx bench/idle.ts [--seconds=15] [--starts=3]   this measurement alone (npm run build first)
 */
import { fileURLToPath } from 'node:url';
import { toolVariable } from '../test/support/tool-env.js';
import type { MeasurementResult, Row } from './report.js';
import { fixed, mib, signed } from './support/format.js';
import { ForeignLoadWindow, processMemory, threadsSample, type ThreadsSample } from './support/proc.js';
import { median } from './support/stats.js';
import { sidecarEnv, startBareServer, startSidecar, type ServerProcess } from './support/servers.js';
import type { FakeSwf } from '../test/support/fake-swf.js';

export interface IdleOptions {
  /** Processes of each kind started per Node.js (the figures are their medians). */
  readonly starts: number;
  readonly seconds: number;
  readonly settleSeconds: number;
  /** The Node.js binaries to measure both servers on. */
  readonly nodes: readonly { readonly label: string; readonly path: string }[];
}

/** The machine's Node (the one running the bench) and the image's Node 24 when it is here. */
export function idleNodes(): IdleOptions['nodes'] {
  const nodes = [{ label: `Node ${process.versions.node.split('.')[0]}`, path: process.execPath }];
  const node24 = process.env['BENCH_NODE24'] ?? toolVariable('SWF_SIDECAR_NODE24');
  if (node24 !== undefined && node24 !== '' && node24 !== process.execPath)
    nodes.push({ label: 'Node 24', path: node24 });
  return nodes;
}

export const IDLE_DEFAULTS: IdleOptions = { starts: 3, seconds: 60, settleSeconds: 30, nodes: idleNodes() };

/** Targets of the issue: at most the bare server's plus these. */
const CPU_MARGIN_VCPU = 0.001;
const ANON_RSS_MARGIN_BYTES = 8 * 2 ** 20;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One server's idle figures over the window. */
export interface IdleFigures {
  readonly vcpu: number;
  readonly mainWakeupsPerSecond: number;
  readonly allWakeupsPerSecond: number;
  readonly threads: number;
  readonly anonRssBytes: number;
  readonly rssBytes: number;
}

export function idleFigures(pid: number, before: ThreadsSample, after: ThreadsSample, seconds: number): IdleFigures {
  const memory = processMemory(pid);
  return {
    vcpu: (after.cpuNs - before.cpuNs) / 1e9 / seconds,
    mainWakeupsPerSecond: (after.mainWakeups - before.mainWakeups) / seconds,
    allWakeupsPerSecond: (after.allWakeups - before.allWakeups) / seconds,
    threads: after.threads,
    anonRssBytes: memory.anonRssBytes,
    rssBytes: memory.rssBytes,
  };
}

/** The median of each figure over several processes of one kind. */
function medianFigures(all: readonly IdleFigures[]): IdleFigures {
  const pick = (key: keyof IdleFigures): number => median(all.map((figures) => figures[key]));
  return {
    vcpu: pick('vcpu'),
    mainWakeupsPerSecond: pick('mainWakeupsPerSecond'),
    allWakeupsPerSecond: pick('allWakeupsPerSecond'),
    threads: pick('threads'),
    anonRssBytes: pick('anonRssBytes'),
    rssBytes: pick('rssBytes'),
  };
}

/** "19.1-21.3 MB of 3; " for several processes, "" for one. */
function anonRange(all: readonly IdleFigures[]): string {
  if (all.length < 2) return '';
  const values = all.map((figures) => figures.anonRssBytes);
  return `${fixed(Math.min(...values) / 2 ** 20, 1)}-${mib(Math.max(...values))} of ${all.length}; `;
}

export async function measureIdle(fake: FakeSwf, options: IdleOptions = IDLE_DEFAULTS): Promise<MeasurementResult> {
  const started: { node: string; bare: ServerProcess; sidecar: ServerProcess }[] = [];
  const foreign = new ForeignLoadWindow();
  const raw: Record<string, { bare: IdleFigures[]; sidecar: IdleFigures[] }> = {};
  let seconds = Number.NaN;
  try {
    for (const node of options.nodes) {
      for (let start = 0; start < options.starts; start += 1) {
        const bare = await startBareServer(node.path);
        // The sidecar's default settings, as deployed: only addresses and the endpoint differ.
        const sidecar = await startSidecar(
          sidecarEnv(fake.url, { SWF_SIDECAR_LOG_LEVEL: 'info' }),
          `idle-${start}`,
          node.path,
        );
        started.push({ node: node.label, bare, sidecar });
      }
    }
    await sleep(options.settleSeconds * 1000);
    const before = started.map((s) => ({ bare: threadsSample(s.bare.pid), sidecar: threadsSample(s.sidecar.pid) }));
    const t0 = performance.now();
    foreign.start();
    await sleep(options.seconds * 1000);
    foreign.stop();
    seconds = (performance.now() - t0) / 1000;
    started.forEach((s, i) => {
      const b = before[i]!;
      const figures = (raw[s.node] ??= { bare: [], sidecar: [] });
      figures.bare.push(idleFigures(s.bare.pid, b.bare, threadsSample(s.bare.pid), seconds));
      figures.sidecar.push(idleFigures(s.sidecar.pid, b.sidecar, threadsSample(s.sidecar.pid), seconds));
    });
  } finally {
    await Promise.all(started.flatMap((s) => [s.bare.stop(), s.sidecar.stop()]));
  }

  const rows: Row[] = [];
  const of = options.starts > 1 ? `, medians of ${options.starts} each` : '';
  for (const [node, all] of Object.entries(raw)) {
    const bare = medianFigures(all.bare);
    const sidecar = medianFigures(all.sidecar);
    const cpuOk = sidecar.vcpu <= bare.vcpu + CPU_MARGIN_VCPU;
    rows.push({
      id: '9',
      what: `idle CPU, ${fixed(seconds, 0)} s with no call (${node}${of})`,
      sidecar: `${fixed(sidecar.vcpu, 5)} vCPU; main thread woken ${fixed(sidecar.mainWakeupsPerSecond, 1)}/s`,
      baseline: `bare grpc-js ${fixed(bare.vcpu, 5)} vCPU; woken ${fixed(bare.mainWakeupsPerSecond, 1)}/s`,
      figure: `${signed(sidecar.vcpu - bare.vcpu, 5)} vCPU (${fixed(sidecar.vcpu / Math.max(bare.vcpu, 1e-6), 1)}x the bare server)`,
      target: `<= bare + ${CPU_MARGIN_VCPU} vCPU`,
      verdict: cpuOk ? 'pass' : 'miss',
      ...(cpuOk ? {} : { missBy: `+${fixed(sidecar.vcpu - bare.vcpu - CPU_MARGIN_VCPU, 5)} vCPU over` }),
    });
    const memoryOk = sidecar.anonRssBytes <= bare.anonRssBytes + ANON_RSS_MARGIN_BYTES;
    rows.push({
      id: '9',
      what: `idle anonymous RSS (${node}${of})`,
      sidecar: `${mib(sidecar.anonRssBytes)} (${anonRange(all.sidecar)}RSS ${mib(sidecar.rssBytes)})`,
      baseline: `bare grpc-js ${mib(bare.anonRssBytes)} (${anonRange(all.bare)}RSS ${mib(bare.rssBytes)})`,
      figure: `${sidecar.anonRssBytes >= bare.anonRssBytes ? '+' : '-'}${mib(Math.abs(sidecar.anonRssBytes - bare.anonRssBytes))}`,
      target: `<= bare + ${mib(ANON_RSS_MARGIN_BYTES)}`,
      verdict: memoryOk ? 'pass' : 'miss',
      ...(memoryOk ? {} : { missBy: `${mib(sidecar.anonRssBytes - bare.anonRssBytes - ANON_RSS_MARGIN_BYTES)} over` }),
    });
  }
  return {
    id: '9',
    title: 'idle',
    rows,
    raw: { options, seconds, foreignLoad: foreign.result, servers: raw },
  };
}

/** Run alone: `node --import tsx bench/idle.ts [--seconds=N] [--settle=N] [--starts=N]`. */
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const flag = (name: string, fallback: number): number => {
    const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
    return arg === undefined ? fallback : Number(arg.slice(name.length + 3));
  };
  const { FakeSwf } = await import('../test/support/fake-swf.js');
  const { textTable } = await import('./report.js');
  const fake = await FakeSwf.start();
  try {
    const result = await measureIdle(fake, {
      ...IDLE_DEFAULTS,
      starts: flag('starts', IDLE_DEFAULTS.starts),
      seconds: flag('seconds', IDLE_DEFAULTS.seconds),
      settleSeconds: flag('settle', IDLE_DEFAULTS.settleSeconds),
    });
    process.stdout.write(`${textTable(result.rows)}\n${JSON.stringify(result.raw, null, 2)}\n`);
  } finally {
    await fake.close();
  }
}
