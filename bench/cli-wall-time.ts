/**
 * Wall time of one `respond-activity-task-failed` call, from spawn to exit: the installed AWS CLI
 * against moto, and ours (the built `bin/swf-sidecar.js`) through a sidecar in front of the same
 * moto. Each call fails a real, open activity task; calls alternate (aws, ours, aws, ...) so drift
 * hits both alike. Target: ours takes at most 0.25x the AWS CLI's time (median of 10 each).
 *
 *   npm run build && node --import tsx bench/cli-wall-time.ts [CALLS=10]
 *
 * AWS_CLI=/path/to/aws measures another AWS CLI (for instance the script behind a pyenv shim).
 */
import { execFile } from 'node:child_process';
import {
  activityTaskFailedEvents,
  openActivityTasks,
  startMoto,
  type OpenedActivityTask,
} from '../test/support/moto.js';
import { SIDECAR_BIN, spawnSidecar } from '../test/support/sidecar-process.js';

const TARGET_RATIO = 0.25;

function timed(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    execFile(file, args, { env, encoding: 'utf8' }, (error, _stdout, stderr) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (error) reject(new Error(`${file} failed: ${stderr || error.message}`));
      else resolve(ms);
    });
  });
}

function summary(samples: readonly number[]): { median: number; mean: number; min: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return {
    median,
    mean: sorted.reduce((sum, x) => sum + x, 0) / sorted.length,
    min: sorted[0] as number,
    max: sorted.at(-1) as number,
  };
}

const calls = Number(process.argv[2] ?? 10);
const awsCli = process.env['AWS_CLI'] ?? 'aws';
const moto = await startMoto();
const sidecar = await spawnSidecar({ AWS_ENDPOINT_URL_SWF: moto.url, SWF_SIDECAR_LOG_LEVEL: 'warn' });
try {
  // One warm-up call each (not counted), so both start from a warm page cache.
  const tasks = await openActivityTasks(moto, 2 * calls + 2);
  const awsEnv = {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? '/tmp',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
  const oursEnv = { PATH: process.env['PATH'] ?? '', SWF_SIDECAR_ADDRESS: sidecar.grpcAddress };
  const args = (task: OpenedActivityTask, i: number): string[] => [
    '--task-token',
    task.taskToken,
    '--reason',
    `bench ${i}`,
    '--details',
    'wall time of one call',
  ];
  const aws = (task: OpenedActivityTask, i: number): Promise<number> =>
    timed(
      awsCli,
      ['swf', 'respond-activity-task-failed', ...args(task, i), '--endpoint-url', moto.url, '--region', 'us-east-1'],
      awsEnv,
    );
  const ours = (task: OpenedActivityTask, i: number): Promise<number> =>
    timed(process.execPath, [SIDECAR_BIN, 'respond-activity-task-failed', ...args(task, i)], oursEnv);

  await aws(tasks[0] as OpenedActivityTask, -1);
  await ours(tasks[1] as OpenedActivityTask, -1);
  const awsMs: number[] = [];
  const oursMs: number[] = [];
  for (let i = 0; i < calls; i++) {
    awsMs.push(await aws(tasks[2 + 2 * i] as OpenedActivityTask, i));
    oursMs.push(await ours(tasks[3 + 2 * i] as OpenedActivityTask, i));
  }
  // Every call really failed its task.
  for (const task of tasks) {
    if ((await activityTaskFailedEvents(moto, task)).length !== 1)
      throw new Error(`task ${task.workflowId} not failed once`);
  }

  const a = summary(awsMs);
  const o = summary(oursMs);
  const row = (name: string, s: ReturnType<typeof summary>): string =>
    `${name.padEnd(34)} ${s.median.toFixed(0).padStart(6)} ${s.mean.toFixed(0).padStart(6)} ${s.min.toFixed(0).padStart(6)} ${s.max.toFixed(0).padStart(6)}`;
  const ratio = o.median / a.median;
  process.stdout.write(
    [
      `respond-activity-task-failed wall time, ${calls} calls each (ms)`,
      `${''.padEnd(34)} ${'median'.padStart(6)} ${'mean'.padStart(6)} ${'min'.padStart(6)} ${'max'.padStart(6)}`,
      row(`${awsCli} (-> moto)`, a),
      row('swf-sidecar (-> sidecar -> moto)', o),
      `ratio of medians ours/aws: ${ratio.toFixed(2)} (target <= ${TARGET_RATIO}: ${ratio <= TARGET_RATIO ? 'met' : 'NOT met'})`,
      '',
    ].join('\n'),
  );
} finally {
  await sidecar.stop();
  await moto.stop();
}
