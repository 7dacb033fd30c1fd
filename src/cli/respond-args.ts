/**
 * The options of `swf-sidecar respond-activity-task-failed`, parsed the way the AWS CLI's
 * argparse does: `--name value` or `--name=value`, the last occurrence wins, and a value that
 * looks like an option is refused (write `--reason=--x` to send "--x").
 */

/** A command line the command cannot run with (exit 252). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type Delivery = 'confirmed' | 'queued';

export interface RespondArgs {
  readonly help: boolean;
  /** Set when --generate-cli-skeleton was given; only `input` (the default) is supported. */
  readonly generateCliSkeleton: 'input' | undefined;
  readonly taskToken: string | undefined;
  readonly reason: string | undefined;
  readonly details: string | undefined;
  /** A JSON document, or `file://path`. */
  readonly cliInputJson: string | undefined;
  readonly endpoint: string | undefined;
  readonly delivery: Delivery | undefined;
  /** The gRPC deadline in milliseconds; 0 means none. */
  readonly timeoutMs: number | undefined;
}

const VALUE_OPTIONS = [
  '--task-token',
  '--reason',
  '--details',
  '--cli-input-json',
  '--endpoint',
  '--delivery',
  '--timeout',
] as const;
type ValueOption = (typeof VALUE_OPTIONS)[number];

const SKELETON_FORMATS = ['input', 'output', 'yaml-input'] as const;

/** argparse's test: an argument starting with a dash and holding no space is an option. */
function looksLikeOption(arg: string): boolean {
  return /^-[^\d\s]/.test(arg) && !/\s/.test(arg);
}

function isValueOption(name: string): name is ValueOption {
  return (VALUE_OPTIONS as readonly string[]).includes(name);
}

export function parseRespondArgs(argv: readonly string[]): RespondArgs {
  const values = new Map<ValueOption, string>();
  let help = false;
  let skeleton: string | undefined;
  const unknown: string[] = [];

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h' || arg === 'help') {
      help = true;
      continue;
    }
    const equals = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = equals === -1 ? arg : arg.slice(0, equals);
    const inline = equals === -1 ? undefined : arg.slice(equals + 1);

    if (name === '--generate-cli-skeleton') {
      // An optional value, as in the AWS CLI: taken only if the next argument is not an option.
      const next = argv[i + 1];
      if (inline !== undefined) skeleton = inline;
      else if (next !== undefined && !looksLikeOption(next)) {
        skeleton = next;
        i++;
      } else skeleton = 'input';
      continue;
    }
    if (isValueOption(name)) {
      if (inline !== undefined) {
        values.set(name, inline);
        continue;
      }
      const next = argv[i + 1];
      if (next === undefined || looksLikeOption(next)) throw new UsageError(`argument ${name}: expected one argument`);
      values.set(name, next);
      i++;
      continue;
    }
    unknown.push(arg);
  }
  if (unknown.length > 0) throw new UsageError(`Unknown options: ${unknown.join(', ')}`);

  return {
    help,
    generateCliSkeleton: skeleton === undefined ? undefined : skeletonFormat(skeleton),
    taskToken: values.get('--task-token'),
    reason: values.get('--reason'),
    details: values.get('--details'),
    cliInputJson: values.get('--cli-input-json'),
    endpoint: endpoint(values.get('--endpoint')),
    delivery: delivery(values.get('--delivery')),
    timeoutMs: timeoutMs(values.get('--timeout')),
  };
}

function skeletonFormat(raw: string): 'input' {
  if (raw === 'input') return 'input';
  if ((SKELETON_FORMATS as readonly string[]).includes(raw)) {
    throw new UsageError(`argument --generate-cli-skeleton: ${raw} is not supported here; use input`);
  }
  throw new UsageError(
    `argument --generate-cli-skeleton: invalid choice: '${raw}' (choose from ${SKELETON_FORMATS.map((f) => `'${f}'`).join(', ')})`,
  );
}

function endpoint(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (raw.trim() === '') throw new UsageError('argument --endpoint: expected HOST:PORT or unix:/path, got ""');
  return raw;
}

function delivery(raw: string | undefined): Delivery | undefined {
  if (raw === undefined) return undefined;
  const lower = raw.toLowerCase();
  if (lower === 'confirmed' || lower === 'queued') return lower;
  throw new UsageError(`argument --delivery: invalid choice: '${raw}' (choose from 'confirmed', 'queued')`);
}

/** Seconds, as the AWS CLI's --cli-read-timeout: a number of seconds, 0 for no deadline. */
function timeoutMs(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const seconds = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(seconds) || seconds < 0) {
    throw new UsageError(`argument --timeout: expected a number of seconds (0 for none), got '${raw}'`);
  }
  return Math.round(seconds * 1000);
}
