/**
 * The examples under examples/ run against a live sidecar in front of moto, and each leaves real
 * ActivityTaskFailed events in moto's history:
 * - python/worker.py (/usr/bin/python3 with Debian's python3-grpcio and python3-boto3) polls SWF
 *   itself, so its tasks are scheduled here and left for it to poll;
 * - ruby/worker.rb (/usr/bin/ruby with ruby-grpc) reads task tokens on stdin;
 * - shell/fail-task.sh drives the swf-sidecar CLI.
 * The Python and Ruby stubs are generated into a temp dir with protoc (protobuf-compiler,
 * protobuf-compiler-grpc), and both workers load examples/grpc-retry-policy.json, so a policy
 * that gRPC refuses fails here too. Missing tools fail the test with the package to install.
 * Needs `npm run build` (the shell example runs the built CLI).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import {
  PollForDecisionTaskCommand,
  RegisterActivityTypeCommand,
  RegisterDomainCommand,
  RegisterWorkflowTypeCommand,
  RespondDecisionTaskCompletedCommand,
  StartWorkflowExecutionCommand,
} from '@aws-sdk/client-swf';
import { PROTO_FILE, PROTO_ROOT } from '../../src/grpc/contract.js';
import { activityTaskFailedEvents, openActivityTasks, startMoto, type Moto } from '../support/moto.js';
import { SIDECAR_BIN, spawnSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import { debianTool } from '../support/debian-tools.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: readonly string[], env: Record<string, string>, input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { env, encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr }),
    );
    child.stdin?.end(input ?? '');
  });
}

type Execution = { domain: string; workflowId: string; runId: string };

/**
 * Like openActivityTasks, but leaves the activity tasks scheduled and unpolled, for a worker that
 * polls SWF itself. One poll at a time: moto's SWF backend has no locks.
 */
async function scheduleActivityTasks(
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
  for (let scheduled = 0; scheduled < count;) {
    const decision = await swf.send(
      new PollForDecisionTaskCommand({ domain, taskList: { name: 'example-decisions' } }),
    );
    if (!decision.taskToken) continue;
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

describe('examples against a sidecar in front of moto', () => {
  let moto: Moto;
  let sidecar: SidecarProcess;
  let dir: string;
  let gen: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'swf-sidecar-examples-'));
    gen = join(dir, 'gen');
    mkdirSync(gen);
    const generated = await run(
      debianTool('protoc'),
      [
        `-I${PROTO_ROOT}`,
        `--python_out=${gen}`,
        `--grpc_python_out=${gen}`,
        `--plugin=protoc-gen-grpc_python=${debianTool('grpcPython')}`,
        `--ruby_out=${gen}`,
        `--grpc_out=${gen}`,
        `--plugin=protoc-gen-grpc=${debianTool('grpcRuby')}`,
        PROTO_FILE,
      ],
      { PATH: process.env['PATH'] ?? '' },
    );
    assert.equal(generated.code, 0, generated.stderr);
    moto = await startMoto();
    sidecar = await spawnSidecar({ AWS_ENDPOINT_URL_SWF: moto.url });
  });
  after(async () => {
    await sidecar?.stop();
    await moto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('python/worker.py polls SWF, fails each task through the sidecar', async () => {
    const { taskList, executions } = await scheduleActivityTasks(moto, 3);
    const domain = (executions[0] as Execution).domain;
    const worker = await run(
      debianTool('python'),
      [join(EXAMPLES, 'python', 'worker.py'), '--domain', domain, '--task-list', taskList, '--max-tasks', '3'],
      {
        PATH: process.env['PATH'] ?? '',
        PYTHONPATH: gen,
        SWF_SIDECAR_ADDRESS: sidecar.grpcAddress,
        AWS_ENDPOINT_URL_SWF: moto.url,
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      },
    );
    assert.equal(worker.code, 0, worker.stderr);
    assert.doesNotMatch(worker.stderr, /could not report|ERROR/);
    for (const execution of executions) {
      const events = await activityTaskFailedEvents(moto, execution);
      assert.equal(events.length, 1, `one ActivityTaskFailed for ${execution.workflowId}`);
      assert.match(
        events[0]?.reason ?? '',
        /^RuntimeError: cannot process activity act-example-\d \(input '\{"order": 42\}'\)$/,
      );
      assert.match(
        events[0]?.details ?? '',
        /^Traceback \(most recent call last\):[\s\S]*worker\.py[\s\S]*RuntimeError: /,
      );
    }
  });

  test('ruby/worker.rb fails the tasks whose tokens it reads', async () => {
    const tasks = await openActivityTasks(moto, 2);
    const worker = await run(
      debianTool('ruby'),
      ['-I', gen, join(EXAMPLES, 'ruby', 'worker.rb')],
      { PATH: process.env['PATH'] ?? '', SWF_SIDECAR_ADDRESS: sidecar.grpcAddress },
      tasks.map((task) => `${task.taskToken}\n`).join(''),
    );
    assert.equal(worker.code, 0, worker.stderr);
    assert.doesNotMatch(worker.stderr, /could not report|ERROR/);
    for (const task of tasks) {
      const events = await activityTaskFailedEvents(moto, task);
      assert.equal(events.length, 1, `one ActivityTaskFailed for ${task.workflowId}`);
      assert.equal(events[0]?.reason, `ArgumentError: cannot process the task ending ${task.taskToken.slice(-8)}`);
      assert.match(events[0]?.details ?? '', /worker\.rb:\d+:in `work_on'/);
    }
  });

  test('shell/fail-task.sh reports through the CLI and passes its exit codes on', async () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(SIDECAR_BIN, join(bin, 'swf-sidecar'));
    const env = { PATH: `${bin}:${process.env['PATH'] ?? ''}`, SWF_SIDECAR_ADDRESS: sidecar.grpcAddress };
    const script = join(EXAMPLES, 'shell', 'fail-task.sh');
    const [task] = await openActivityTasks(moto, 1);
    assert.ok(task);

    const reported = await run('/bin/sh', [script, task.taskToken, 'disk full', 'ENOSPC ✗'], env);
    assert.deepEqual(reported, { code: 0, stdout: '', stderr: '' });
    const events = await activityTaskFailedEvents(moto, task);
    assert.deepEqual(
      events.map(({ reason, details }) => ({ reason, details })),
      [{ reason: 'disk full', details: 'ENOSPC ✗' }],
    );

    const refused = await run('/bin/sh', [script, 'not-a-real-token', 'r'], env);
    assert.equal(refused.code, 254, refused.stderr);
    assert.match(refused.stderr, /^An error occurred \(INVALID_ARGUMENT\)[^\n]*\n$/);
  });
});

test('grpc-retry-policy.json retries only what the sidecar says is worth retrying', () => {
  const policy = JSON.parse(readFileSync(join(EXAMPLES, 'grpc-retry-policy.json'), 'utf8')) as {
    methodConfig: { name: { service: string }[]; timeout: string; retryPolicy: { retryableStatusCodes: string[] } }[];
  };
  const [config] = policy.methodConfig;
  assert.ok(config);
  assert.deepEqual(config.name, [{ service: 'swfsidecar.v1.ActivityTasks' }]);
  assert.deepEqual(config.retryPolicy.retryableStatusCodes, ['UNAVAILABLE', 'RESOURCE_EXHAUSTED']);
  // Longer than the sidecar's own SWF retry budget for confirmed delivery (30 s + a 5 s call).
  assert.ok(Number.parseFloat(config.timeout) > 35);
});
