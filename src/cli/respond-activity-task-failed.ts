import type { WireFailRequest } from '../grpc/contract.js';
import { cliSkeleton, readCliInputJson, type RespondParameters } from './cli-input-json.js';
import { EXIT, exitCodeForStatus } from './exit-codes.js';
import { parseRespondArgs, UsageError, type RespondArgs } from './respond-args.js';
import { DEFAULT_ENDPOINT, DEFAULT_TIMEOUT_SECONDS, respondHelpText } from './respond-help.js';
import type { CallResult } from './sidecar-call.js';
import { parseSidecarEndpoint, type SidecarEndpoint } from './sidecar-endpoint.js';

const COMMAND = 'swf-sidecar respond-activity-task-failed';

/**
 * `swf-sidecar respond-activity-task-failed`: the AWS CLI command of the same name, sent to a
 * running sidecar. Prints nothing on success; one line on stderr otherwise; exits as the AWS CLI
 * version 2 does (see exit-codes.ts). The call's code is loaded only once there is something to send.
 */
export async function respondActivityTaskFailed(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let args: RespondArgs;
  let request: WireFailRequest;
  let endpoint: string;
  let target: SidecarEndpoint;
  try {
    args = parseRespondArgs(argv);
    if (args.help) {
      process.stdout.write(respondHelpText());
      return EXIT.ok;
    }
    if (args.generateCliSkeleton !== undefined) {
      process.stdout.write(cliSkeleton());
      return EXIT.ok;
    }
    request = toRequest(args);
    endpoint = args.endpoint ?? (env['SWF_SIDECAR_ADDRESS'] || DEFAULT_ENDPOINT);
    target = parseSidecarEndpoint(endpoint);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${COMMAND}: error: ${oneLine(error.message)} (see --help)\n`);
    return EXIT.usage;
  }

  const timeoutMs = args.timeoutMs ?? DEFAULT_TIMEOUT_SECONDS * 1000;
  let result: CallResult;
  try {
    const { failActivityTask } = await import('./sidecar-call.js');
    result = await failActivityTask(target, request, timeoutMs);
  } catch (error) {
    // Not an answer from the sidecar: "anything else" for the AWS CLI too.
    process.stderr.write(`${COMMAND}: ${oneLine(error instanceof Error ? error.message : String(error))}\n`);
    return EXIT.other;
  }
  if (result.kind === 'ok') return EXIT.ok;
  const code = exitCodeForStatus(result.code, result.reachedSidecar);
  process.stderr.write(`${describeError(result, code, endpoint, timeoutMs)}\n`);
  return code;
}

/** The one stderr line for a failed call, worded like the AWS CLI's for the same situation. */
function describeError(
  result: Extract<CallResult, { kind: 'error' }>,
  code: number,
  endpoint: string,
  timeoutMs: number,
): string {
  const message = oneLine(result.message);
  if (code === EXIT.serviceError) {
    const retry = result.retryAfterMs === undefined ? '' : ` (retry after ${result.retryAfterMs} ms)`;
    return `An error occurred (${result.codeName}) when calling the FailActivityTask operation: ${message}${retry}`;
  }
  if (!result.reachedSidecar)
    return `Could not connect to the sidecar at "${endpoint}": ${result.codeName}: ${message}`;
  return (
    `No answer from the sidecar at "${endpoint}" within ${timeoutMs / 1000} s: ${result.codeName}: ${message}` +
    ' (a report the sidecar accepted is still delivered)'
  );
}

/**
 * Merges --cli-input-json under the command line's own options (the command line wins, as in
 * the AWS CLI) and checks what botocore checks before sending: a task token of 1 character or
 * more. Every other limit is the sidecar's to check (INVALID_ARGUMENT, exit 254).
 */
function toRequest(args: RespondArgs): WireFailRequest {
  const fromJson: RespondParameters = args.cliInputJson === undefined ? {} : readCliInputJson(args.cliInputJson);
  const taskToken = args.taskToken ?? fromJson.taskToken;
  if (taskToken === undefined) throw new UsageError('the following arguments are required: --task-token');
  if (taskToken === '') {
    throw new UsageError(
      'Parameter validation failed: Invalid length for parameter taskToken, value: 0, valid min length: 1',
    );
  }
  const request: WireFailRequest = { taskToken };
  // Absent stays absent and "" stays "": the contract tells them apart (proto3 optional).
  const reason = args.reason ?? fromJson.reason;
  const details = args.details ?? fromJson.details;
  if (reason !== undefined) request.reason = reason;
  if (details !== undefined) request.details = details;
  if (args.delivery !== undefined)
    request.delivery = args.delivery === 'queued' ? 'DELIVERY_QUEUED' : 'DELIVERY_CONFIRMED';
  return request;
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}
