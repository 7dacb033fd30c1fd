/**
 * The examples under examples/ run against a live sidecar in front of moto, and each leaves real
 * ActivityTaskFailed events in moto's history:
 * - python/worker.py polls SWF itself, so its tasks are scheduled here and left for it to poll. It
 *   runs twice: with /usr/bin/python3 and Debian's python3-grpcio and python3-boto3 (stubs from
 *   Debian's protoc), and with the current grpcio from PyPI (examples/python/requirements-pypi.txt,
 *   stubs from grpcio-tools' own protoc), in the venv scripts/setup/30-examples.sh makes;
 * - ruby/worker.rb (/usr/bin/ruby with ruby-grpc) reads task tokens on stdin;
 * - shell/fail-task.sh drives the swf-sidecar CLI.
 * The Python and Ruby stubs are generated into a temp dir with protoc (protobuf-compiler,
 * protobuf-compiler-grpc), and both workers load examples/grpc-retry-policy.json, so a policy
 * that gRPC refuses fails here too. Missing tools fail the test with the package to install.
 * Needs `npm run build` (the shell example runs the built CLI). Go, Java and grpcurl: go.test.ts,
 * java.test.ts, grpcurl.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PROTO_FILE, PROTO_ROOT } from '../../src/grpc/contract.js';
import { activityTaskFailedEvents, openActivityTasks, startMoto, type Moto } from '../support/moto.js';
import { SIDECAR_BIN, spawnSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import { debianTool } from '../support/debian-tools.js';
import { pypiPython } from '../support/example-tools.js';
import { EXAMPLES, run, scheduleActivityTasks, type Execution } from './support.js';

describe('examples against a sidecar in front of moto', () => {
  let moto: Moto;
  let sidecar: SidecarProcess;
  let dir: string;
  let gen: string;
  let pypiGen: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'swf-sidecar-examples-'));
    gen = join(dir, 'gen');
    pypiGen = join(dir, 'gen-pypi');
    mkdirSync(gen);
    mkdirSync(pypiGen);
    const env = { PATH: process.env['PATH'] ?? '' };
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
      { env },
    );
    assert.equal(generated.code, 0, generated.stderr);
    // As worker.py tells a PyPI user to: grpcio-tools' own protoc and plugin.
    const generatedPypi = await run(
      pypiPython(),
      [
        '-m',
        'grpc_tools.protoc',
        `-I${PROTO_ROOT}`,
        `--python_out=${pypiGen}`,
        `--grpc_python_out=${pypiGen}`,
        PROTO_FILE,
      ],
      { env },
    );
    assert.equal(generatedPypi.code, 0, generatedPypi.stderr);
    moto = await startMoto();
    sidecar = await spawnSidecar({ AWS_ENDPOINT_URL_SWF: moto.url });
  });
  after(async () => {
    await sidecar?.stop();
    await moto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function pythonWorkerFailsEachTask(python: string, pythonPath: string): Promise<void> {
    const { taskList, executions } = await scheduleActivityTasks(moto, 3);
    const domain = (executions[0] as Execution).domain;
    const worker = await run(
      python,
      [join(EXAMPLES, 'python', 'worker.py'), '--domain', domain, '--task-list', taskList, '--max-tasks', '3'],
      {
        env: {
          PATH: process.env['PATH'] ?? '',
          PYTHONPATH: pythonPath,
          SWF_SIDECAR_ADDRESS: sidecar.grpcAddress,
          AWS_ENDPOINT_URL_SWF: moto.url,
          AWS_DEFAULT_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_CONFIG_FILE: '/dev/null',
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        },
      },
    );
    assert.equal(worker.code, 0, worker.stderr);
    assert.doesNotMatch(worker.stderr, /could not report|ERROR/);
    assert.equal(
      worker.stderr.match(/^INFO reported: OUTCOME_DELIVERED after 1 SWF call\(s\)$/gm)?.length,
      3,
      worker.stderr,
    );
    assert.equal(worker.stderr.match(/^INFO reported act-example-\d as failed: DONE$/gm)?.length, 3, worker.stderr);
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
  }

  test('python/worker.py (Debian grpcio) polls SWF, fails each task through the sidecar', async () => {
    await pythonWorkerFailsEachTask(debianTool('python'), gen);
  });

  test('python/worker.py (grpcio from PyPI, requirements-pypi.txt) does the same', async () => {
    const python = pypiPython();
    const version = await run(
      python,
      ['-c', 'import grpc, google.protobuf; print(grpc.__version__, google.protobuf.__version__)'],
      {
        env: { PATH: process.env['PATH'] ?? '' },
      },
    );
    const pinned = readFileSync(join(EXAMPLES, 'python', 'requirements-pypi.txt'), 'utf8');
    const [grpcio, protobuf] = ['grpcio', 'protobuf'].map(
      (name) => new RegExp(`^${name}==(.+)$`, 'm').exec(pinned)?.[1],
    );
    assert.equal(version.stdout.trim(), `${grpcio} ${protobuf}`, 'the venv holds the pinned grpcio and protobuf');
    await pythonWorkerFailsEachTask(python, pypiGen);
  });

  test('python/worker.py says what each status code means: INVALID_ARGUMENT is given up', async () => {
    // A token SWF rejects as malformed: the sidecar answers INVALID_ARGUMENT, never retried.
    const script = [
      'import logging, sys',
      `sys.path.insert(0, ${JSON.stringify(join(EXAMPLES, 'python'))})`,
      'import worker',
      'logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")',
      'print(worker.report_failure(worker.sidecar_stub(), "not-a-real-token", ValueError("boom")).name)',
    ].join('\n');
    const result = await run(pypiPython(), ['-c', script], {
      env: {
        PATH: process.env['PATH'] ?? '',
        PYTHONPATH: pypiGen,
        PYTHONDONTWRITEBYTECODE: '1',
        SWF_SIDECAR_ADDRESS: sidecar.grpcAddress,
      },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'GIVE_UP\n');
    assert.match(result.stderr, /^ERROR could not report the failure, the request is wrong: INVALID_ARGUMENT: /m);
  });

  test('ruby/worker.rb fails the tasks whose tokens it reads', async () => {
    const tasks = await openActivityTasks(moto, 2);
    const worker = await run(debianTool('ruby'), ['-I', gen, join(EXAMPLES, 'ruby', 'worker.rb')], {
      env: { PATH: process.env['PATH'] ?? '', SWF_SIDECAR_ADDRESS: sidecar.grpcAddress },
      input: tasks.map((task) => `${task.taskToken}\n`).join(''),
    });
    assert.equal(worker.code, 0, worker.stderr);
    assert.doesNotMatch(worker.stderr, /could not report|ERROR/);
    assert.equal(
      worker.stderr.match(/INFO -- : reported: OUTCOME_DELIVERED after 1 SWF call\(s\)$/gm)?.length,
      2,
      worker.stderr,
    );
    for (const task of tasks) {
      const events = await activityTaskFailedEvents(moto, task);
      assert.equal(events.length, 1, `one ActivityTaskFailed for ${task.workflowId}`);
      assert.equal(events[0]?.reason, `ArgumentError: cannot process the task ending ${task.taskToken.slice(-8)}`);
      assert.match(events[0]?.details ?? '', /worker\.rb:\d+:in `work_on'/);
    }
  });

  test('ruby/worker.rb says what each status code means: INVALID_ARGUMENT is given up', async () => {
    const script = [
      `require ${JSON.stringify(join(EXAMPLES, 'ruby', 'worker.rb'))}`,
      "puts SidecarReporter.new.fail_task('not-a-real-token', RuntimeError.new('boom'))",
    ].join('\n');
    const result = await run(debianTool('ruby'), ['-I', gen, '-e', script], {
      env: { PATH: process.env['PATH'] ?? '', SWF_SIDECAR_ADDRESS: sidecar.grpcAddress },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'give_up\n');
    assert.match(result.stderr, /ERROR -- : could not report the failure, the request is wrong: InvalidArgument: /);
  });

  test('shell/fail-task.sh reports through the CLI and passes its exit codes on', async () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(SIDECAR_BIN, join(bin, 'swf-sidecar'));
    const env = { PATH: `${bin}:${process.env['PATH'] ?? ''}`, SWF_SIDECAR_ADDRESS: sidecar.grpcAddress };
    const script = join(EXAMPLES, 'shell', 'fail-task.sh');
    const [task] = await openActivityTasks(moto, 1);
    assert.ok(task);

    const reported = await run('/bin/sh', [script, task.taskToken, 'disk full', 'ENOSPC ✗'], { env });
    assert.deepEqual(reported, { code: 0, stdout: '', stderr: '' });
    const events = await activityTaskFailedEvents(moto, task);
    assert.deepEqual(
      events.map(({ reason, details }) => ({ reason, details })),
      [{ reason: 'disk full', details: 'ENOSPC ✗' }],
    );

    const refused = await run('/bin/sh', [script, 'not-a-real-token', 'r'], { env });
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
