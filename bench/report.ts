import { execFileSync } from 'node:child_process';
import { cpus, release, totalmem } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';

export type Verdict = 'pass' | 'miss' | 'info';

/** One line of the results table. Figures are already formatted; raw numbers go to results.json. */
export interface Row {
  /** "1", "3a", ... as numbered in the issue. */
  readonly id: string;
  readonly what: string;
  /** The sidecar's figure. */
  readonly sidecar: string;
  /** The baseline measured in the same run, or "-". */
  readonly baseline: string;
  /** The graded figure: a ratio against the baseline where there is one. */
  readonly figure: string;
  readonly target: string;
  readonly verdict: Verdict;
  /** For a miss: by how much, in words. */
  readonly missBy?: string;
}

/** What each measurement module returns. */
export interface MeasurementResult {
  readonly id: string;
  readonly title: string;
  readonly rows: Row[];
  /** Everything measured, for bench/results.json. */
  readonly raw: unknown;
}

export interface MachineInfo {
  readonly date: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly commit: string;
}

export function machineInfo(): MachineInfo {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bin', 'package.json'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (dirty !== '') commit += ' + uncommitted changes in src/, bin/ or package.json';
  } catch {
    // not a git checkout: leave "unknown"
  }
  return {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: `Linux ${release()}`,
    node: process.version,
    commit,
  };
}

const VERDICT_TEXT: Record<Verdict, string> = { pass: 'pass', miss: '**MISS**', info: '-' };

export function markdownTable(rows: readonly Row[]): string {
  const header = '| # | what | sidecar | baseline (same run) | graded figure | target | result |';
  const rule = '|---|---|---|---|---|---|---|';
  const lines = rows.map((r) => {
    const verdict =
      r.verdict === 'miss' && r.missBy !== undefined ? `${VERDICT_TEXT.miss} (${r.missBy})` : VERDICT_TEXT[r.verdict];
    return `| ${r.id} | ${r.what} | ${r.sidecar} | ${r.baseline} | ${r.figure} | ${r.target} | ${verdict} |`;
  });
  return [header, rule, ...lines].join('\n');
}

/** A plain-text table for the terminal. */
export function textTable(rows: readonly Row[]): string {
  const cells = [
    ['#', 'what', 'sidecar', 'baseline', 'graded figure', 'target', 'result'],
    ...rows.map((r) => [
      r.id,
      r.what,
      r.sidecar,
      r.baseline,
      r.figure,
      r.target,
      r.verdict === 'miss'
        ? `MISS${r.missBy === undefined ? '' : ` (${r.missBy})`}`
        : r.verdict === 'pass'
          ? 'pass'
          : '-',
    ]),
  ];
  const widths = cells[0]!.map((_, col) => Math.max(...cells.map((row) => (row[col] ?? '').length)));
  return cells
    .map((row) =>
      row
        .map((cell, col) => cell.padEnd(widths[col] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const BEGIN = '<!-- bench:begin (written by npm run bench; edit outside these markers) -->';
const END = '<!-- bench:end -->';

/**
 * Rewrites the generated part of RESULTS.md (between the markers) and keeps everything else,
 * so the hand-written analysis of misses survives a new run.
 */
export function updateResultsMarkdown(
  path: string,
  machine: MachineInfo,
  rows: readonly Row[],
  wallSeconds: number,
  notes: readonly string[],
): void {
  const misses = rows.filter((r) => r.verdict === 'miss');
  const generated = [
    BEGIN,
    '',
    `Run of ${machine.date.slice(0, 10)} (${machine.date}), commit ${machine.commit}.`,
    '',
    `Machine: ${machine.cpu}, ${machine.cores} vCPU, ${machine.memoryGiB} GiB RAM, ${machine.kernel}; Node ${machine.node}. ` +
      `\`npm run bench\` took ${Math.round(wallSeconds)} s.`,
    '',
    markdownTable(rows),
    '',
    misses.length === 0
      ? 'Every target met in this run.'
      : `Missed in this run: ${misses.map((r) => `${r.id} (${r.missBy ?? 'see table'})`).join('; ')}.`,
    '',
    ...notes.map((note) => `- ${note}`),
    '',
    END,
  ].join('\n');
  let current: string;
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    current = '';
  }
  const begin = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  const next =
    begin >= 0 && end > begin
      ? current.slice(0, begin) + generated + current.slice(end + END.length)
      : `# swf-sidecar benchmark results\n\n${generated}\n`;
  writeFileSync(path, next);
}
