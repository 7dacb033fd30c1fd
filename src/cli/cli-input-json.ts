import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { UsageError } from './respond-args.js';

/** The request parameters of RespondActivityTaskFailed, named as the AWS CLI's JSON names them. */
export interface RespondParameters {
  taskToken?: string;
  reason?: string;
  details?: string;
}

/** Keys in the order `aws swf respond-activity-task-failed --generate-cli-skeleton` prints them. */
export const PARAMETER_NAMES = ['taskToken', 'reason', 'details'] as const;

/** Exactly what the AWS CLI prints for `--generate-cli-skeleton` (Python's json.dumps, indent 4). */
export function cliSkeleton(): string {
  const skeleton = Object.fromEntries(PARAMETER_NAMES.map((name) => [name, '']));
  return `${JSON.stringify(skeleton, null, 4)}\n`;
}

const FILE_PREFIX = 'file://';

/**
 * Reads `--cli-input-json`: a JSON document, or `file://path` (UTF-8; a leading `~` is the home
 * folder, as in the AWS CLI). Every problem is a UsageError worded like the AWS CLI's.
 */
export function readCliInputJson(value: string): RespondParameters {
  let text = value;
  if (value.startsWith(FILE_PREFIX)) {
    const path = value.slice(FILE_PREFIX.length).replace(/^~(?=$|\/)/, homedir());
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new UsageError(`Error parsing parameter '--cli-input-json': Unable to load paramfile ${value}: ${reason}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(`Error parsing parameter 'cli-input-json': Invalid JSON: ${reason}`);
  }
  return checkParameters(parsed);
}

/** botocore's parameter validation for this operation: known keys, string values. */
function checkParameters(parsed: unknown): RespondParameters {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(
      `Error parsing parameter 'cli-input-json': expected a JSON object, got ${JSON.stringify(parsed)}`,
    );
  }
  const parameters: RespondParameters = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!(PARAMETER_NAMES as readonly string[]).includes(key)) {
      throw new UsageError(
        `Parameter validation failed: Unknown parameter in input: "${key}", must be one of: ${PARAMETER_NAMES.join(', ')}`,
      );
    }
    if (typeof value !== 'string') {
      throw new UsageError(
        `Parameter validation failed: Invalid type for parameter ${key}, value: ${JSON.stringify(value)}, type: ${value === null ? 'null' : typeof value}, valid types: string`,
      );
    }
    parameters[key as keyof RespondParameters] = value;
  }
  return parameters;
}
