/**
 * End-to-end test harness: a private moto_server (moto 5.2.1) per test, plus helpers to open real
 * SWF activity tasks, fail them directly with the SDK, and read `ActivityTaskFailed` events back.
 *
 * Observed moto 5.2.1 behaviour (asserted in moto.test.ts), and how it differs from real SWF:
 * - Failing the same token twice: moto raises a Python ValueError and answers HTTP 500 with a
 *   Werkzeug HTML page (`content-type: text/html`); real SWF answers UnknownResourceFault (400).
 *   The SDK cannot parse the body, and with its default retry strategy it tries 3 times, then
 *   throws a plain `SyntaxError` (name "SyntaxError", message starting "Unexpected token '<'"),
 *   `$fault` undefined, `$metadata: { httpStatusCode: 500, attempts: 3 }`, and a hidden
 *   `$response` with `statusCode: 500`. The first failure stays the only ActivityTaskFailed event.
 * - Bogus (or empty) token: `ValidationException`, message "Invalid token", `$fault: "client"`,
 *   HTTP 400, 1 attempt (an SWFServiceException; the SDK does not check the 1-character minimum).
 * - No length limits: details of 32,768 characters (and more) and reasons over 256 characters are
 *   accepted and stored verbatim.
 * - Empty strings are dropped: moto only stores truthy event attributes, so `reason: ""` (or
 *   `details: ""`) reads back exactly like an absent field (the key is missing from history).
 *   Tests cannot use moto to tell "" from absent.
 * - Non-ASCII (BMP and astral, e.g. emoji) details round-trip exactly.
 * - No throttling and no signature checks (any credentials work).
 * - GetWorkflowExecutionHistory never paginates (no nextPageToken); we follow it anyway.
 * - Polls are not long polls: with nothing pending, PollFor*Task sleeps 1 s and returns an empty
 *   token. A poll hands out the oldest pending task of the task list, whichever execution it
 *   belongs to, so results are matched by the returned workflowExecution, never by order.
 * - moto_server is threaded and its SWF backend has no locks: two concurrent polls on one task
 *   list can in principle hand out the same task, and creating a new task-list key while another
 *   request iterates the task-list dicts can raise "dictionary changed size during iteration"
 *   (HTTP 500). `openActivityTasks` therefore opens its first task alone (creating both task-list
 *   keys), runs polls one at a time, and runs everything else concurrently. 100 tasks open in
 *   about 1.2 s (plus about 0.6 s to start the server).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port.js';

import {
  GetWorkflowExecutionHistoryCommand,
  PollForActivityTaskCommand,
  PollForDecisionTaskCommand,
  RegisterActivityTypeCommand,
  RegisterDomainCommand,
  RegisterWorkflowTypeCommand,
  RespondActivityTaskFailedCommand,
  RespondDecisionTaskCompletedCommand,
  SWFClient,
  StartWorkflowExecutionCommand,
  type ActivityTaskFailedEventAttributes,
} from '@aws-sdk/client-swf';

export interface Moto {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** PID of the moto_server process. */
  readonly pid: number;
  /** SDK client pointed at this server (us-east-1, dummy static credentials, default retries). */
  readonly swf: SWFClient;
  /** Idempotent: SIGTERM, then SIGKILL after a bounded wait; resolves once the process is gone. */
  stop(): Promise<void>;
}

export interface OpenedActivityTask {
  taskToken: string;
  workflowId: string;
  runId: string;
  domain: string;
  activityId: string;
}

export interface OpenActivityTasksOptions {
  /** Maximum number of executions being worked on at once (default 8). */
  concurrency?: number;
}

const STARTUP_TIMEOUT_MS = 20_000;
const POLL_INTERVAL_MS = 100;
const STOP_GRACE_MS = 3_000;
const START_ATTEMPTS = 3;

export const DUMMY_CREDENTIALS = {
  accessKeyId: 'AKIDMOTOTESTING00000',
  secretAccessKey: 'moto-testing-secret-not-checked',
} as const;
export const REGION = 'us-east-1';

// Last line of defence: if a test process exits without calling stop(), kill what is left.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

async function killChild(child: ChildProcess): Promise<void> {
  if (!exited(child)) {
    child.kill('SIGTERM');
    if (!(await waitForExit(child, STOP_GRACE_MS))) {
      child.kill('SIGKILL');
      await waitForExit(child, STOP_GRACE_MS);
    }
  }
  live.delete(child);
}

class EarlyExit extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

async function startOnce(): Promise<Moto> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: false,
  });
  live.add(child);
  installExitHook();

  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    // Keep only the tail: Werkzeug logs every request to stderr.
    stderr = (stderr + chunk).slice(-8_192);
  });
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  try {
    for (;;) {
      if (spawnError) throw new Error(`could not spawn moto_server: ${spawnError.message}`);
      if (exited(child)) {
        throw new EarlyExit(
          `moto_server exited early (code ${child.exitCode}, signal ${child.signalCode}) on port ${port}; stderr:\n${stderr}`,
          stderr,
        );
      }
      try {
        const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(1_000) });
        await res.arrayBuffer();
        break; // any HTTP answer means it is serving
      } catch {
        // not listening yet
      }
      if (Date.now() >= deadline) {
        throw new Error(
          `moto_server did not answer HTTP on ${url} within ${STARTUP_TIMEOUT_MS} ms; stderr:\n${stderr}`,
        );
      }
      await sleep(POLL_INTERVAL_MS);
    }
  } catch (err) {
    await killChild(child);
    throw err;
  }

  const swf = new SWFClient({
    endpoint: url,
    region: REGION,
    credentials: DUMMY_CREDENTIALS,
  });
  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    pid: child.pid ?? -1,
    swf,
    stop() {
      stopping ??= (async () => {
        swf.destroy();
        await killChild(child);
      })();
      return stopping;
    },
  };
}

/** Starts a private moto_server on a free port and waits until it serves HTTP (at most 20 s). */
export async function startMoto(): Promise<Moto> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce();
    } catch (err) {
      // The free port can be taken between our probe and moto's bind: try another one.
      const portTaken = err instanceof EarlyExit && /address already in use/i.test(err.stderr);
      if (!portTaken || attempt >= START_ATTEMPTS) throw err;
    }
  }
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results keep the input order. */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** A FIFO async mutex. */
function serializer(): <R>(fn: () => Promise<R>) => Promise<R> {
  let tail: Promise<unknown> = Promise.resolve();
  return <R>(fn: () => Promise<R>): Promise<R> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

let domainCounter = 0;
const WORKFLOW_TYPE = { name: 'swf-sidecar-test-workflow', version: '1' } as const;
const ACTIVITY_TYPE = { name: 'swf-sidecar-test-activity', version: '1' } as const;
const DECISION_TASK_LIST = 'swf-sidecar-test-decisions';
const ACTIVITY_TASK_LIST = 'swf-sidecar-test-activities';
const EMPTY_POLL_RETRIES = 5;

/**
 * Registers a fresh domain (unique per call) with one workflow type and one activity type, starts
 * `count` executions and opens one activity task in each. Result i belongs to workflow `wf-i`.
 */
export async function openActivityTasks(
  moto: Moto,
  count: number,
  opts: OpenActivityTasksOptions = {},
): Promise<OpenedActivityTask[]> {
  const concurrency = Math.max(1, opts.concurrency ?? 8);
  const { swf } = moto;
  const domain = `swf-sidecar-test-${process.pid}-${++domainCounter}-${randomUUID().slice(0, 8)}`;

  await swf.send(new RegisterDomainCommand({ name: domain, workflowExecutionRetentionPeriodInDays: '1' }));
  await Promise.all([
    swf.send(
      new RegisterWorkflowTypeCommand({
        domain,
        ...WORKFLOW_TYPE,
        defaultTaskList: { name: DECISION_TASK_LIST },
        defaultExecutionStartToCloseTimeout: '86400',
        defaultTaskStartToCloseTimeout: '3600',
        defaultChildPolicy: 'TERMINATE',
      }),
    ),
    swf.send(
      new RegisterActivityTypeCommand({
        domain,
        ...ACTIVITY_TYPE,
        defaultTaskList: { name: ACTIVITY_TASK_LIST },
        defaultTaskHeartbeatTimeout: 'NONE',
        defaultTaskScheduleToStartTimeout: '3600',
        defaultTaskScheduleToCloseTimeout: '7200',
        defaultTaskStartToCloseTimeout: '3600',
      }),
    ),
  ]);

  const poll = serializer();
  const runs = new Map<string, string>(); // workflowId -> runId
  const opened = new Map<string, OpenedActivityTask>(); // workflowId -> task
  const tokens = new Set<string>();

  const pollDecision = async (): Promise<void> => {
    const decision = await poll(async () => {
      for (let i = 0; i < EMPTY_POLL_RETRIES; i++) {
        const out = await swf.send(new PollForDecisionTaskCommand({ domain, taskList: { name: DECISION_TASK_LIST } }));
        if (out.taskToken) return out;
      }
      throw new Error(`no decision task became available in ${domain}`);
    });
    const workflowId = decision.workflowExecution?.workflowId;
    if (!workflowId || !runs.has(workflowId)) {
      throw new Error(`decision task for an unexpected execution: ${JSON.stringify(decision.workflowExecution)}`);
    }
    await swf.send(
      new RespondDecisionTaskCompletedCommand({
        taskToken: decision.taskToken,
        decisions: [
          {
            decisionType: 'ScheduleActivityTask',
            scheduleActivityTaskDecisionAttributes: {
              activityType: { ...ACTIVITY_TYPE },
              activityId: `act-${workflowId}`,
            },
          },
        ],
      }),
    );
  };

  const pollActivity = async (): Promise<void> => {
    const task = await poll(async () => {
      for (let i = 0; i < EMPTY_POLL_RETRIES; i++) {
        const out = await swf.send(new PollForActivityTaskCommand({ domain, taskList: { name: ACTIVITY_TASK_LIST } }));
        if (out.taskToken) return out;
      }
      throw new Error(`no activity task became available in ${domain}`);
    });
    const { taskToken, activityId, workflowExecution } = task;
    const workflowId = workflowExecution?.workflowId;
    const runId = workflowExecution?.runId;
    if (!taskToken || !activityId || !workflowId || !runId || runs.get(workflowId) !== runId) {
      throw new Error(`activity task for an unexpected execution: ${JSON.stringify(workflowExecution)}`);
    }
    if (opened.has(workflowId) || tokens.has(taskToken)) {
      throw new Error(`moto handed out a second activity task for ${workflowId}`);
    }
    tokens.add(taskToken);
    opened.set(workflowId, { taskToken, workflowId, runId, domain, activityId });
  };

  const openOne = async (index: number): Promise<void> => {
    const workflowId = `wf-${index}`;
    const started = await swf.send(
      new StartWorkflowExecutionCommand({ domain, workflowId, workflowType: { ...WORKFLOW_TYPE } }),
    );
    if (!started.runId) throw new Error(`StartWorkflowExecution returned no runId for ${workflowId}`);
    runs.set(workflowId, started.runId);
    // Each worker adds one pending decision (activity) task before it polls for one, so a poll
    // never finds the list empty even if it picks up another worker's task.
    await pollDecision();
    await pollActivity();
  };

  const indexes = Array.from({ length: count }, (_, i) => i);
  if (count > 0) await openOne(0); // creates moto's task-list keys before any concurrency
  await mapLimit(indexes.slice(1), concurrency, (i) => openOne(i));

  return indexes.map((i) => {
    const task = opened.get(`wf-${i}`);
    if (!task) throw new Error(`no activity task was opened for wf-${i}`);
    return task;
  });
}

/** Every `ActivityTaskFailed` event's attributes in the task's execution history, oldest first. */
export async function activityTaskFailedEvents(
  moto: Moto,
  task: Pick<OpenedActivityTask, 'domain' | 'workflowId' | 'runId'>,
): Promise<ActivityTaskFailedEventAttributes[]> {
  const found: ActivityTaskFailedEventAttributes[] = [];
  let nextPageToken: string | undefined;
  do {
    const page = await moto.swf.send(
      new GetWorkflowExecutionHistoryCommand({
        domain: task.domain,
        execution: { workflowId: task.workflowId, runId: task.runId },
        nextPageToken,
      }),
    );
    for (const event of page.events ?? []) {
      if (event.eventType === 'ActivityTaskFailed' && event.activityTaskFailedEventAttributes) {
        found.push(event.activityTaskFailedEventAttributes);
      }
    }
    nextPageToken = page.nextPageToken || undefined;
  } while (nextPageToken);
  return found;
}

/** RespondActivityTaskFailed straight through the SDK (no sidecar), for comparisons. */
export async function failDirectly(moto: Moto, taskToken: string, reason?: string, details?: string): Promise<void> {
  await moto.swf.send(new RespondActivityTaskFailedCommand({ taskToken, reason, details }));
}
