/**
 * Measurement 10: wall time of one `respond-activity-task-failed` call, from spawn to exit: the
 * installed AWS CLI against moto, and ours (the built `bin/swf-sidecar.js`) through a sidecar in
 * front of the same moto. Each call fails a real, open activity task; calls alternate (aws, ours,
 * aws, ...) so drift hits both alike, after one warm-up call each. Target: ours takes at most
 * 0.25x the AWS CLI's time (median of 10 each). Needs moto_server and the AWS CLI (`aws`, or the
 * one AWS_CLI names); without the AWS CLI the row says so and grades nothing.
 */
import { execFile } from 'node:child_process';
import type { MeasurementResult, Row } from './report.js';
import { ms, ratio } from './support/format.js';
import { median } from './support/stats.js';
import {
  activityTaskFailedEvents,
  openActivityTasks,
  startMoto,
  type OpenedActivityTask,
} from '../test/support/moto.js';
import { SIDECAR_BIN, spawnSidecar } from '../test/support/sidecar-process.js';

export interface CliWallTimeOptions {
  readonly calls: number;
  readonly awsCli: string;
}

export const CLI_WALL_TIME_DEFAULTS: CliWallTimeOptions = { calls: 10, awsCli: process.env['AWS_CLI'] ?? 'aws' };

const TARGET_RATIO = 0.25;
const WHAT = 'CLI wall time, one respond-activity-task-failed, spawn to exit';

function timed(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    execFile(file, args, { env, encoding: 'utf8' }, (error, _stdout, stderr) => {
      const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
      if (error) reject(new Error(`${file} failed: ${stderr || error.message}`));
      else resolve(elapsedMs);
    });
  });
}

/** Whether `file --version` runs at all. */
async function installed(file: string): Promise<boolean> {
  return timed(file, ['--version'], process.env).then(
    () => true,
    () => false,
  );
}

export async function measureCliWallTime(
  _fake: unknown,
  options: CliWallTimeOptions = CLI_WALL_TIME_DEFAULTS,
): Promise<MeasurementResult> {
  if (!(await installed(options.awsCli))) {
    const rows: Row[] = [
      {
        id: '10',
        what: WHAT,
        sidecar: '-',
        baseline: `${options.awsCli}: not installed`,
        figure: 'not measured',
        target: `<= ${TARGET_RATIO}x the AWS CLI`,
        verdict: 'info',
      },
    ];
    return { id: '10', title: 'CLI wall time', rows, raw: { options, awsCliInstalled: false } };
  }
  const moto = await startMoto();
  const sidecar = await spawnSidecar({ AWS_ENDPOINT_URL_SWF: moto.url, SWF_SIDECAR_LOG_LEVEL: 'warn' });
  try {
    const tasks = await openActivityTasks(moto, 2 * options.calls + 2);
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
        options.awsCli,
        ['swf', 'respond-activity-task-failed', ...args(task, i), '--endpoint-url', moto.url, '--region', 'us-east-1'],
        awsEnv,
      );
    const ours = (task: OpenedActivityTask, i: number): Promise<number> =>
      timed(process.execPath, [SIDECAR_BIN, 'respond-activity-task-failed', ...args(task, i)], oursEnv);

    await aws(tasks[0]!, -1);
    await ours(tasks[1]!, -1);
    const awsMs: number[] = [];
    const oursMs: number[] = [];
    for (let i = 0; i < options.calls; i++) {
      awsMs.push(await aws(tasks[2 + 2 * i]!, i));
      oursMs.push(await ours(tasks[3 + 2 * i]!, i));
    }
    // Every call really failed its task, once.
    for (const task of tasks) {
      if ((await activityTaskFailedEvents(moto, task)).length !== 1) {
        throw new Error(`task ${task.workflowId} not failed exactly once`);
      }
    }
    const figure = median(oursMs) / median(awsMs);
    const ok = figure <= TARGET_RATIO;
    const rows: Row[] = [
      {
        id: '10',
        what: `${WHAT} (median of ${options.calls})`,
        sidecar: `swf-sidecar ${ms(median(oursMs), 0)} (min ${ms(Math.min(...oursMs), 0)})`,
        baseline: `AWS CLI ${ms(median(awsMs), 0)} (min ${ms(Math.min(...awsMs), 0)})`,
        figure: `${ratio(figure)} the AWS CLI's time`,
        target: `<= ${TARGET_RATIO}x`,
        verdict: ok ? 'pass' : 'miss',
        ...(ok ? {} : { missBy: `${ratio(figure / TARGET_RATIO)} the target` }),
      },
    ];
    return { id: '10', title: 'CLI wall time', rows, raw: { options, awsMs, oursMs } };
  } finally {
    await sidecar.stop();
    await moto.stop();
  }
}
