/**
 * Parity with the real AWS CLI (`aws`, which CI installs): the same skeleton, and for the same
 * inputs, `aws swf respond-activity-task-failed` against moto and ours through a sidecar in front
 * of the same moto leave the same ActivityTaskFailed attributes in history. Each case fails two
 * identical tasks (one per CLI), so whole attribute objects, event ids included, must be equal.
 * Needs `npm run build`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  activityTaskFailedEvents,
  openActivityTasks,
  startMoto,
  type Moto,
  type OpenedActivityTask,
} from '../support/moto.js';
import { SIDECAR_BIN, spawnSidecar, type SidecarProcess } from '../support/sidecar-process.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      if (error !== null && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error(`${file} is not installed: this test needs the AWS CLI ('aws') on PATH`));
        return;
      }
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

/** The AWS CLI with dummy credentials and no user configuration. */
function aws(args: readonly string[], endpointUrl?: string): Promise<Run> {
  const endpoint = endpointUrl === undefined ? [] : ['--endpoint-url', endpointUrl, '--region', 'us-east-1'];
  return run('aws', ['swf', 'respond-activity-task-failed', ...args, ...endpoint], {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? tmpdir(),
    LANG: 'C.UTF-8',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_PAGER: '',
  });
}

function ours(args: readonly string[], endpoint?: string): Promise<Run> {
  const target = endpoint === undefined ? [] : ['--endpoint', endpoint];
  return run(process.execPath, [SIDECAR_BIN, 'respond-activity-task-failed', ...args, ...target], {
    PATH: process.env['PATH'] ?? '',
  });
}

const NON_ASCII = 'ünïcødé ✓ 日本語 🚀\nsecond line\t"quoted" \\ backslash';

/** Each case builds the same command line for a given task token; `file` writes a JSON file. */
interface Case {
  name: string;
  args(token: string, file: (content: unknown) => string): string[];
}

const CASES: Case[] = [
  {
    name: 'plain options',
    args: (token) => ['--task-token', token, '--reason', 'disk full', '--details', 'ENOSPC writing /var/data'],
  },
  {
    name: '--cli-input-json as a string',
    args: (token) => [
      '--cli-input-json',
      JSON.stringify({ taskToken: token, reason: 'from json', details: 'json details' }),
    ],
  },
  {
    name: '--cli-input-json file:// with non-ASCII details',
    args: (token, file) => [
      '--cli-input-json',
      `file://${file({ taskToken: token, reason: 'from a file', details: NON_ASCII })}`,
    ],
  },
  {
    name: 'the command line overrides the JSON',
    args: (token) => [
      '--cli-input-json',
      JSON.stringify({ taskToken: 'not-the-token', reason: 'json reason', details: 'json details' }),
      '--task-token',
      token,
      '--reason',
      'command-line reason',
    ],
  },
  {
    name: 'non-ASCII details on the command line',
    args: (token) => ['--task-token', token, '--reason', 'räsön ✓', '--details', NON_ASCII],
  },
];

describe('parity with aws swf respond-activity-task-failed', () => {
  let moto: Moto;
  let sidecar: SidecarProcess;
  let tasks: OpenedActivityTask[];
  let dir: string;
  let files = 0;
  const file = (content: unknown): string => {
    const path = join(dir, `input-${++files}.json`);
    writeFileSync(path, JSON.stringify(content), 'utf8');
    return path;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'swf-sidecar-parity-'));
    moto = await startMoto();
    sidecar = await spawnSidecar({ AWS_ENDPOINT_URL_SWF: moto.url });
    tasks = await openActivityTasks(moto, 2 * CASES.length);
  });
  after(async () => {
    await sidecar?.stop();
    await moto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('--generate-cli-skeleton prints the same bytes', async () => {
    const [theirs, mine] = await Promise.all([aws(['--generate-cli-skeleton']), ours(['--generate-cli-skeleton'])]);
    assert.equal(theirs.code, 0, theirs.stderr);
    assert.deepEqual(mine, theirs);
  });

  CASES.forEach((testCase, i) => {
    test(`same ActivityTaskFailed attributes: ${testCase.name}`, async () => {
      const awsTask = tasks[2 * i] as OpenedActivityTask;
      const ourTask = tasks[2 * i + 1] as OpenedActivityTask;
      const [theirs, mine] = await Promise.all([
        aws(testCase.args(awsTask.taskToken, file), moto.url),
        ours(testCase.args(ourTask.taskToken, file), sidecar.grpcAddress),
      ]);
      assert.deepEqual(theirs, { code: 0, stdout: '', stderr: '' }, 'aws');
      assert.deepEqual(mine, { code: 0, stdout: '', stderr: '' }, 'ours');
      const [awsEvents, ourEvents] = await Promise.all([
        activityTaskFailedEvents(moto, awsTask),
        activityTaskFailedEvents(moto, ourTask),
      ]);
      assert.equal(awsEvents.length, 1);
      assert.ok(awsEvents[0]?.reason && awsEvents[0].details, 'the AWS CLI recorded a reason and details');
      assert.deepEqual(ourEvents, awsEvents);
    });
  });
});
