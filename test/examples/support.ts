/** Helpers the example tests share: running a program, and SWF executions for a polling worker. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  PollForDecisionTaskCommand,
  RegisterActivityTypeCommand,
  RegisterDomainCommand,
  RegisterWorkflowTypeCommand,
  RespondDecisionTaskCompletedCommand,
  StartWorkflowExecutionCommand,
} from '@aws-sdk/client-swf';
import { freePort } from '../support/free-port.js';
import { openActivityTasks, type Moto, type OpenedActivityTask } from '../support/moto.js';
import { spawnSidecar } from '../support/sidecar-process.js';

export const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
export const RETRY_POLICY = fileURLToPath(new URL('../../examples/grpc-retry-policy.json', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env: Record<string, string | undefined>;
  input?: string;
  cwd?: string;
  /** Killed (SIGTERM) after this long; 60 s unless set. */
  timeoutMs?: number;
}

/** Runs a program to its end; never rejects: a failure shows in `code` (null: killed). */
export function run(file: string, args: readonly string[], options: RunOptions): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      {
        env: options.env,
        cwd: options.cwd,
        encoding: 'utf8',
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : null,
          stdout,
          stderr: error !== null && typeof error.code !== 'number' ? `${stderr}\n${error.message}` : stderr,
        }),
    );
    child.stdin?.end(options.input ?? '');
  });
}

/**
 * A report the example starts while nothing listens at its address yet, and the sidecar started
 * there `headStartMs` later: the client's retry policy (examples/grpc-retry-policy.json) must
 * carry the call through. Returns the example's result and the task, for the caller's checks.
 */
export async function reportBeforeSidecarListens(
  moto: Moto,
  failTask: (address: string, taskToken: string) => Promise<Run>,
  headStartMs: number,
): Promise<{ result: Run; task: OpenedActivityTask }> {
  const [task] = await openActivityTasks(moto, 1);
  assert.ok(task);
  const address = `127.0.0.1:${await freePort()}`;
  const pending = failTask(address, task.taskToken);
  // Time for the client to start and find nothing there; if it is slower, the call still passes.
  await sleep(headStartMs);
  const late = await spawnSidecar({ AWS_ENDPOINT_URL_SWF: moto.url, SWF_SIDECAR_ADDRESS: address });
  try {
    return { result: await pending, task };
  } finally {
    await late.stop();
  }
}

export type Execution = { domain: string; workflowId: string; runId: string };

/**
 * Like openActivityTasks, but leaves the activity tasks scheduled and unpolled, for a worker that
 * polls SWF itself. One poll at a time: moto's SWF backend has no locks. Bounded: moto answers an
 * empty poll after about a second, and 3 empty polls per task fail the test.
 */
export async function scheduleActivityTasks(
  moto: Moto,
  count: number,
): Promise<{ taskList: string; executions: Execution[] }> {
  const { swf } = moto;
  const domain = `swf-sidecar-examples-${process.pid}-${Date.now()}`;
  const taskList = 'example-activities';
  const workflowType = { name: 'example-workflow', version: '1' };
  const activityType = { name: 'example-activity', version: '1' };
  await swf.send(new RegisterDomainCommand({ name: domain, workflowExecutionRetentionPeriodInDays: '1' }));
  await swf.send(
    new RegisterWorkflowTypeCommand({
      domain,
      ...workflowType,
      defaultTaskList: { name: 'example-decisions' },
      defaultExecutionStartToCloseTimeout: '3600',
      defaultTaskStartToCloseTimeout: '600',
      defaultChildPolicy: 'TERMINATE',
    }),
  );
  await swf.send(
    new RegisterActivityTypeCommand({
      domain,
      ...activityType,
      defaultTaskList: { name: taskList },
      defaultTaskHeartbeatTimeout: 'NONE',
      defaultTaskScheduleToStartTimeout: '600',
      defaultTaskScheduleToCloseTimeout: '1200',
      defaultTaskStartToCloseTimeout: '600',
    }),
  );
  const executions: Execution[] = [];
  for (let i = 0; i < count; i++) {
    const workflowId = `example-${i}`;
    const started = await swf.send(new StartWorkflowExecutionCommand({ domain, workflowId, workflowType }));
    executions.push({ domain, workflowId, runId: started.runId ?? '' });
  }
  let emptyPolls = 0;
  for (let scheduled = 0; scheduled < count;) {
    const decision = await swf.send(
      new PollForDecisionTaskCommand({ domain, taskList: { name: 'example-decisions' } }),
    );
    if (!decision.taskToken) {
      if (++emptyPolls > 3 * count) throw new Error(`only ${scheduled} of ${count} decision tasks came in ${domain}`);
      continue;
    }
    await swf.send(
      new RespondDecisionTaskCompletedCommand({
        taskToken: decision.taskToken,
        decisions: [
          {
            decisionType: 'ScheduleActivityTask',
            scheduleActivityTaskDecisionAttributes: {
              activityType,
              activityId: `act-${decision.workflowExecution?.workflowId ?? scheduled}`,
              input: '{"order": 42}',
            },
          },
        ],
      }),
    );
    scheduled++;
  }
  return { taskList, executions };
}
