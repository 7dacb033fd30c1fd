/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`; BENCH_CPU_PROF=1 makes the bench write one
 * per sidecar into .tmp/bench-profiles/): self time by function and by package, and total
 * (inclusive) time of the sidecar's own functions.
 *
 *   node --import tsx bench/support/cpuprofile-top.ts FILE.cpuprofile [TOP=25] [FROM_US-TO_US]
 *
 * FROM_US-TO_US keeps one measured window only (the bench prints it next to each profile).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  bySelf: { name: string; ms: number }[];
  byPackage: { name: string; ms: number }[];
  ownInclusive: { name: string; ms: number }[];
}

/** Where a frame's code lives: a node: module, a dependency's package, a sidecar file, or native. */
export function packageOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return url;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? url);
  }
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return `sidecar ${url.slice(dist + 1)}`;
  return url;
}

/** A frame as `function file:line`, the file shortened to what follows node_modules/ or dist/. */
export function frameLabel({ functionName, url, lineNumber }: ProfileNode['callFrame']): string {
  const file = url.replace(/^.*\/(node_modules|dist)\//, '$1/');
  return `${functionName || '(anonymous)'} ${file}${url ? `:${lineNumber + 1}` : ''}`;
}

/**
 * `window` (optional) keeps only samples taken within [fromUs, toUs] of CLOCK_MONOTONIC, the clock
 * of both V8's profile timestamps and `process.hrtime.bigint()` (ns) in any process.
 */
export function summarizeProfile(
  profile: Profile,
  top = 25,
  window?: { fromUs: number; toUs: number },
): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  let atUs = profile.startTime;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    atUs += delta;
    if (window !== undefined && (atUs < window.fromUs || atUs > window.toUs)) return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  const label = (node: ProfileNode): string => frameLabel(node.callFrame);
  const self = new Map<string, number>();
  const pkg = new Map<string, number>();
  const own = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (node === undefined) continue;
    totalUs += us;
    if (node.callFrame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    self.set(label(node), (self.get(label(node)) ?? 0) + us);
    const p = packageOf(node.callFrame.url, node.callFrame.functionName);
    pkg.set(p, (pkg.get(p) ?? 0) + us);
    // Inclusive time of our own functions: walk up once per distinct frame.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (n === undefined || !n.callFrame.url.includes('/dist/')) continue;
      const l = label(n);
      if (seen.has(l)) continue;
      seen.add(l);
      own.set(l, (own.get(l) ?? 0) + us);
    }
  }
  const sorted = (m: Map<string, number>): { name: string; ms: number }[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000 }));
  return {
    totalMs: totalUs / 1000,
    idleMs: idleUs / 1000,
    bySelf: sorted(self),
    byPackage: sorted(pkg),
    ownInclusive: sorted(own),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (file === undefined) {
    process.stderr.write('usage: cpuprofile-top.ts FILE.cpuprofile [TOP]\n');
    process.exit(2);
  }
  const [fromUs, toUs] = (process.argv[4] ?? '').split('-').map(Number);
  const window = fromUs !== undefined && toUs !== undefined && toUs > 0 ? { fromUs, toUs } : undefined;
  const summary = summarizeProfile(
    JSON.parse(readFileSync(file, 'utf8')) as Profile,
    Number(process.argv[3] ?? 25),
    window,
  );
  const busy = summary.totalMs - summary.idleMs;
  const pct = (ms: number): string => `${((ms / busy) * 100).toFixed(1).padStart(5)}%`;
  process.stdout.write(
    `profile ${file}: ${busy.toFixed(0)} ms busy of ${summary.totalMs.toFixed(0)} ms\n\nself time by package:\n`,
  );
  for (const row of summary.byPackage) process.stdout.write(`  ${pct(row.ms)}  ${row.name}\n`);
  process.stdout.write('\nself time by function:\n');
  for (const row of summary.bySelf) process.stdout.write(`  ${pct(row.ms)}  ${row.name}\n`);
  process.stdout.write('\ninclusive time of sidecar functions (dist/):\n');
  for (const row of summary.ownInclusive) process.stdout.write(`  ${pct(row.ms)}  ${row.name}\n`);
}
