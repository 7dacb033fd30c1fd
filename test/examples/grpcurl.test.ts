/**
 * grpcurl (built from its Go module at the version scripts/setup/30-examples.sh pins) against a
 * sidecar in front of moto: it lists the services and describes FailActivityTask through server
 * reflection, with no proto file, and shell/fail-task.sh's grpcurl branch fails a real task and
 * turns grpcurl's exit codes into the CLI's.
 */
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { activityTaskFailedEvents, openActivityTasks, startMoto, type Moto } from '../support/moto.js';
import { spawnSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import { debianTool } from '../support/debian-tools.js';
import { goBinary } from '../support/example-tools.js';
import { EXAMPLES, run } from './support.js';

describe('grpcurl against a sidecar in front of moto', () => {
  let moto: Moto;
  let sidecar: SidecarProcess;
  let grpcurl: string;

  before(async () => {
    grpcurl = goBinary('grpcurl');
    moto = await startMoto();
    sidecar = await spawnSidecar({ AWS_ENDPOINT_URL_SWF: moto.url });
  });
  after(async () => {
    await sidecar?.stop();
    await moto?.stop();
  });

  const env = (): Record<string, string> => ({ PATH: process.env['PATH'] ?? '' });

  test('lists the services through reflection', async () => {
    const listed = await run(grpcurl, ['-plaintext', sidecar.grpcAddress, 'list'], { env: env() });
    assert.equal(listed.code, 0, listed.stderr);
    const services = listed.stdout.trim().split('\n');
    assert.deepEqual(services.sort(), ['grpc.health.v1.Health', 'swfsidecar.v1.ActivityTasks'], listed.stdout);
  });

  test('describes FailActivityTask and its request', async () => {
    const described = await run(
      grpcurl,
      ['-plaintext', sidecar.grpcAddress, 'describe', 'swfsidecar.v1.ActivityTasks.FailActivityTask'],
      { env: env() },
    );
    assert.equal(described.code, 0, described.stderr);
    assert.match(
      described.stdout,
      /^swfsidecar\.v1\.ActivityTasks\.FailActivityTask is a method:\n[\s\S]*rpc FailActivityTask \( \.swfsidecar\.v1\.FailActivityTaskRequest \) returns \( \.swfsidecar\.v1\.FailActivityTaskResponse \);\n$/,
    );
    const request = await run(
      grpcurl,
      ['-plaintext', sidecar.grpcAddress, 'describe', 'swfsidecar.v1.FailActivityTaskRequest'],
      { env: env() },
    );
    assert.equal(request.code, 0, request.stderr);
    // The field names are the proto's; proto3 `optional` shows as the synthetic oneof it compiles
    // to (the descriptor protobufjs builds does not flag it proto3_optional): the same on the wire.
    assert.match(request.stdout, /^ {2}string task_token = 1;$/m);
    assert.match(request.stdout, /^ {4}string reason = 2;$/m);
    assert.match(request.stdout, /^ {4}string details = 3;$/m);
    assert.match(request.stdout, /^ {2}\.swfsidecar\.v1\.Delivery delivery = 4;$/m);
  });

  test('shell/fail-task.sh with SWF_SIDECAR_CLIENT=grpcurl fails a real task and maps the exit codes', async () => {
    debianTool('jq'); // the script builds grpcurl's JSON with jq
    const script = join(EXAMPLES, 'shell', 'fail-task.sh');
    const shellEnv = {
      PATH: `${dirname(grpcurl)}:${process.env['PATH'] ?? ''}`,
      SWF_SIDECAR_CLIENT: 'grpcurl',
      SWF_SIDECAR_ADDRESS: sidecar.grpcAddress,
    };
    const [task] = await openActivityTasks(moto, 1);
    assert.ok(task);
    const reported = await run('/bin/sh', [script, task.taskToken, 'disk full', 'ENOSPC ✗ "quoted"'], {
      env: shellEnv,
    });
    assert.deepEqual(reported, { code: 0, stdout: '', stderr: '' });
    const events = await activityTaskFailedEvents(moto, task);
    assert.deepEqual(
      events.map(({ reason, details }) => ({ reason, details })),
      [{ reason: 'disk full', details: 'ENOSPC ✗ "quoted"' }],
    );

    // The sidecar answered with an error (grpcurl's 64 + 3): the CLI's 254, not retried.
    const refused = await run('/bin/sh', [script, 'not-a-real-token', 'r'], { env: shellEnv });
    assert.equal(refused.code, 254, refused.stderr);
    assert.match(refused.stderr, /Code: InvalidArgument\n/);
    assert.equal(refused.stderr.match(/Code: /g)?.length, 1, 'sent once');
  });
});
