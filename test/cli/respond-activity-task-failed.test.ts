/**
 * `swf-sidecar respond-activity-task-failed` as a user runs it: the built binary in a child
 * process. First against a scripted gRPC server in this process (it records what arrives and
 * answers whatever status a test needs), then against a real sidecar in front of moto.
 * Every exit code (0, 252, 254, 255) is produced here. Needs `npm run build`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Metadata,
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadContract, SERVICE_NAME, type WireFailRequest, type WireFailResponse } from '../../src/grpc/contract.js';
import {
  activityTaskFailedEvents,
  openActivityTasks,
  startMoto,
  type Moto,
  type OpenedActivityTask,
} from '../support/moto.js';
import { SIDECAR_BIN, spawnSidecar, type SidecarProcess } from '../support/sidecar-process.js';

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with only PATH (plus `env`) in its environment, so no SWF_SIDECAR_ADDRESS leaks in. */
function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
  nodeArgs: readonly string[] = [],
): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...nodeArgs, SIDECAR_BIN, 'respond-activity-task-failed', ...args],
      { env: { PATH: process.env['PATH'] ?? '', ...env }, encoding: 'utf8', timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** One line on stderr, nothing on stdout. */
function assertOneErrorLine(run: CliRun, pattern: RegExp): void {
  assert.equal(run.stdout, '');
  assert.match(run.stderr, /^[^\n]+\n$/, `expected one line on stderr, got ${JSON.stringify(run.stderr)}`);
  assert.match(run.stderr, pattern);
}

type Answer =
  | { kind: 'ok' }
  | { kind: 'error'; code: status; details: string; trailers?: Record<string, string> }
  | { kind: 'never' };

/** A gRPC server of the contract whose FailActivityTask answers `next` and records requests. */
async function startScriptedServer(): Promise<{
  address: string;
  received: WireFailRequest[];
  answer(next: Answer): void;
  stop(): void;
}> {
  const received: WireFailRequest[] = [];
  let next: Answer = { kind: 'ok' };
  const hanging: sendUnaryData<WireFailResponse>[] = [];
  const server = new Server();
  const definition = loadContract()[SERVICE_NAME];
  assert.ok(definition !== undefined && 'FailActivityTask' in definition);
  server.addService(definition, {
    FailActivityTask(
      call: ServerUnaryCall<WireFailRequest, WireFailResponse>,
      callback: sendUnaryData<WireFailResponse>,
    ) {
      received.push(call.request);
      if (next.kind === 'ok') callback(null, { outcome: 'OUTCOME_DELIVERED', attempts: 1 });
      else if (next.kind === 'never') hanging.push(callback);
      else {
        const metadata = new Metadata();
        for (const [key, value] of Object.entries(next.trailers ?? {})) metadata.set(key, value);
        const error: Partial<ServiceError> = { code: next.code, details: next.details, metadata };
        callback(error);
      }
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    received,
    answer(answer) {
      next = answer;
    },
    stop() {
      server.forceShutdown();
    },
  };
}

describe('against a scripted gRPC server', () => {
  let scripted: Awaited<ReturnType<typeof startScriptedServer>>;
  before(async () => {
    scripted = await startScriptedServer();
  });
  after(() => scripted.stop());

  const sent = async (args: readonly string[]): Promise<WireFailRequest> => {
    scripted.answer({ kind: 'ok' });
    const before = scripted.received.length;
    const run = await runCli(['--endpoint', scripted.address, ...args]);
    assert.deepEqual(run, { code: 0, stdout: '', stderr: '' });
    assert.equal(scripted.received.length, before + 1);
    return scripted.received.at(-1) as WireFailRequest;
  };

  test('exit 0, silent: sends the options, keeping "" apart from absent', async () => {
    assert.deepEqual(await sent(['--task-token', 'tok-1']), { taskToken: 'tok-1' });
    assert.deepEqual(await sent(['--task-token', 'tok-2', '--reason', '', '--details=']), {
      taskToken: 'tok-2',
      reason: '',
      details: '',
    });
    assert.deepEqual(await sent(['--task-token', 'tok-3', '--reason', 'r', '--delivery', 'queued']), {
      taskToken: 'tok-3',
      reason: 'r',
      delivery: 'DELIVERY_QUEUED',
    });
    assert.deepEqual(await sent(['--task-token', 'tok-4', '--delivery', 'confirmed']), {
      taskToken: 'tok-4',
      delivery: 'DELIVERY_CONFIRMED',
    });
  });

  test('exit 0: --cli-input-json fills in what the command line leaves out', async () => {
    const json = JSON.stringify({ taskToken: 'json-token', reason: 'json reason', details: 'json details' });
    assert.deepEqual(await sent(['--cli-input-json', json, '--reason', 'cli reason']), {
      taskToken: 'json-token',
      reason: 'cli reason',
      details: 'json details',
    });
    assert.deepEqual(await sent(['--task-token', 'cli-token', '--cli-input-json', json]), {
      taskToken: 'cli-token',
      reason: 'json reason',
      details: 'json details',
    });
  });

  test('exit 0 and nothing sent: --generate-cli-skeleton and --help', async () => {
    const before = scripted.received.length;
    const skeleton = await runCli(['--generate-cli-skeleton', '--endpoint', scripted.address]);
    assert.deepEqual(skeleton, {
      code: 0,
      stdout: '{\n    "taskToken": "",\n    "reason": "",\n    "details": ""\n}\n',
      stderr: '',
    });
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--task-token[\s\S]*--endpoint[\s\S]*252/);
    assert.equal(scripted.received.length, before);
  });

  test('exit 252 and nothing sent: bad syntax, unknown options, invalid parameters', async () => {
    const before = scripted.received.length;
    const cases: [string[], RegExp][] = [
      [[], /the following arguments are required: --task-token/],
      [['--reason', 'r'], /required: --task-token/],
      [['--task-token'], /--task-token: expected one argument/],
      [['--task-token', 't', '--region', 'us-east-1'], /Unknown options: --region/],
      [['--task-token', 't', '--delivery', 'soon'], /--delivery: invalid choice/],
      [['--task-token', 't', '--timeout', 'x'], /--timeout/],
      [['--task-token', ''], /Invalid length for parameter taskToken/],
      [['--cli-input-json', '{"taskToken":'], /Invalid JSON/],
      [['--cli-input-json', '{"taskToken":"t","domain":"d"}'], /Unknown parameter in input: "domain"/],
      [['--cli-input-json', 'file:///nonexistent/input.json'], /Unable to load paramfile/],
      [
        ['--task-token', 't', '--endpoint', 'http://x:1'],
        /endpoint "http:\/\/x:1": .*expected HOST:PORT or unix:\/path/,
      ],
      [['--task-token', 't', '--endpoint', '127.0.0.1:99999'], /endpoint "127\.0\.0\.1:99999": the port/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(['--endpoint', scripted.address, ...args])));
    runs.forEach((run, i) => {
      const [args, pattern] = cases[i] as [string[], RegExp];
      assert.equal(run.code, 252, `${args.join(' ')}: ${run.stderr}`);
      assertOneErrorLine(run, pattern);
    });
    assert.equal(scripted.received.length, before);
  });

  test('exit 254: the sidecar answered with an error status, named on stderr', async () => {
    const answers: [Answer, RegExp][] = [
      [
        { kind: 'error', code: status.NOT_FOUND, details: 'UnknownResourceFault: Unknown activity' },
        /\(NOT_FOUND\).*Unknown activity$/m,
      ],
      [{ kind: 'error', code: status.PERMISSION_DENIED, details: 'not allowed' }, /\(PERMISSION_DENIED\)/],
      [
        {
          kind: 'error',
          code: status.RESOURCE_EXHAUSTED,
          details: 'queue full',
          trailers: { 'retry-after-ms': '250' },
        },
        /\(RESOURCE_EXHAUSTED\).*queue full \(retry after 250 ms\)$/m,
      ],
      [
        { kind: 'error', code: status.UNAVAILABLE, details: 'the sidecar is shutting down' },
        /\(UNAVAILABLE\).*shutting down$/m,
      ],
      [
        { kind: 'error', code: status.INVALID_ARGUMENT, details: 'line one\nline two' },
        /\(INVALID_ARGUMENT\).*line one line two$/m,
      ],
    ];
    for (const [answer, pattern] of answers) {
      scripted.answer(answer);
      const run = await runCli(['--endpoint', scripted.address, '--task-token', 't']);
      assert.equal(run.code, 254, run.stderr);
      assertOneErrorLine(run, /^An error occurred \([A-Z_]+\) when calling the FailActivityTask operation: /);
      assertOneErrorLine(run, pattern);
    }
  });

  test('starts fast: a call loads neither gRPC libraries, nor the AWS SDK, nor the sidecar itself', async () => {
    // A module resolve hook (node:module register) writes down every module imported with `import`.
    const dir = mkdtempSync(join(tmpdir(), 'swf-sidecar-cli-'));
    try {
      const log = join(dir, 'imports.log');
      writeFileSync(
        join(dir, 'hooks.mjs'),
        `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, resolved.url + '\\n');
  return resolved;
}`,
      );
      writeFileSync(
        join(dir, 'register.mjs'),
        `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`,
      );
      scripted.answer({ kind: 'ok' });
      const run = await runCli(['--endpoint', scripted.address, '--task-token', 't'], {}, [
        '--import',
        join(dir, 'register.mjs'),
      ]);
      assert.deepEqual(run, { code: 0, stdout: '', stderr: '' });
      const imported = readFileSync(log, 'utf8').split('\n');
      assert.ok(
        imported.some((url) => url.endsWith('/dist/cli/sidecar-call.js')),
        'the hook saw the call module imported',
      );
      for (const unwanted of [
        '/@grpc/grpc-js/',
        '/@aws-sdk/',
        '/@smithy/',
        '/@grpc/proto-loader/',
        '/protobufjs/',
        '/dist/app.js',
        '/dist/grpc/contract.js',
      ]) {
        assert.deepEqual(
          imported.filter((url) => url.includes(unwanted)),
          [],
          `the CLI imported ${unwanted}`,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('exit 255: no answer before the --timeout deadline', async () => {
    scripted.answer({ kind: 'never' });
    const started = Date.now();
    const run = await runCli(['--endpoint', scripted.address, '--task-token', 't', '--timeout', '0.3']);
    assert.equal(run.code, 255, run.stderr);
    assertOneErrorLine(run, /^No answer from the sidecar at "127\.0\.0\.1:\d+" within 0\.3 s: DEADLINE_EXCEEDED: /);
    assert.ok(Date.now() - started < 5_000);
  });
});

test('exit 255: nothing listens at the endpoint (UNAVAILABLE without a connection)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'swf-sidecar-cli-'));
  try {
    const [tcp, unix] = await Promise.all([
      runCli(['--task-token', 't'], { SWF_SIDECAR_ADDRESS: '127.0.0.1:1' }),
      runCli(['--task-token', 't', '--endpoint', `unix:${join(dir, 'none.sock')}`]),
    ]);
    assert.equal(tcp.code, 255, tcp.stderr);
    assertOneErrorLine(tcp, /^Could not connect to the sidecar at "127\.0\.0\.1:1": UNAVAILABLE: .*ECONNREFUSED/);
    assert.equal(unix.code, 255, unix.stderr);
    assertOneErrorLine(unix, /^Could not connect to the sidecar at "unix:.*none\.sock": UNAVAILABLE: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('against the sidecar in front of moto, on a unix socket', () => {
  let moto: Moto;
  let sidecar: SidecarProcess;
  let tasks: OpenedActivityTask[];
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'swf-sidecar-cli-'));
    moto = await startMoto();
    sidecar = await spawnSidecar({
      AWS_ENDPOINT_URL_SWF: moto.url,
      SWF_SIDECAR_ADDRESS: `unix:${join(dir, 'sidecar.sock')}`,
    });
    tasks = await openActivityTasks(moto, 2);
    // The endpoint comes from the same variable the sidecar reads.
    env = { SWF_SIDECAR_ADDRESS: sidecar.grpcAddress };
  });
  after(async () => {
    await sidecar?.stop();
    await moto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('exit 0: SWF recorded the failure (confirmed delivery)', async () => {
    const task = tasks[0] as OpenedActivityTask;
    const run = await runCli(['--task-token', task.taskToken, '--reason', 'disk full', '--details', 'ENOSPC ✗'], env);
    assert.deepEqual(run, { code: 0, stdout: '', stderr: '' });
    const events = await activityTaskFailedEvents(moto, task);
    assert.deepEqual(
      events.map(({ reason, details }) => ({ reason, details })),
      [{ reason: 'disk full', details: 'ENOSPC ✗' }],
    );
  });

  test('exit 0: --delivery queued answers at once and SWF records it soon after', async () => {
    const task = tasks[1] as OpenedActivityTask;
    const run = await runCli(['--task-token', task.taskToken, '--reason', 'queued', '--delivery', 'queued'], env);
    assert.deepEqual(run, { code: 0, stdout: '', stderr: '' });
    for (let i = 0; ; i++) {
      const events = await activityTaskFailedEvents(moto, task);
      if (events.length > 0) {
        assert.equal(events[0]?.reason, 'queued');
        break;
      }
      assert.ok(i < 50, 'the queued report reached SWF within 5 s');
      await sleep(100);
    }
  });

  test('exit 254: SWF refused the token (ValidationException, INVALID_ARGUMENT)', async () => {
    const run = await runCli(['--task-token', 'not-a-real-token', '--reason', 'r'], env);
    assert.equal(run.code, 254, run.stderr);
    assertOneErrorLine(
      run,
      /^An error occurred \(INVALID_ARGUMENT\) when calling the FailActivityTask operation: .*ValidationException/,
    );
  });
});
