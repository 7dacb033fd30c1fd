/**
 * examples/go builds and fails real tasks through a sidecar in front of moto. A copy of the module
 * (go.mod, go.sum, main.go) gets stubs generated from proto/ by Debian's protoc with the pinned
 * protoc-gen-go and protoc-gen-go-grpc, and is built with GOPROXY=off and -mod=readonly: go.sum
 * must be complete, and the modules come from the cache scripts/setup/30-examples.sh fills.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PROTO_FILE, PROTO_ROOT } from '../../src/grpc/contract.js';
import { activityTaskFailedEvents, openActivityTasks, startMoto, type Moto } from '../support/moto.js';
import { spawnSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import { debianTool } from '../support/debian-tools.js';
import { goBinary, goTool } from '../support/example-tools.js';
import { EXAMPLES, RETRY_POLICY, reportBeforeSidecarListens, run } from './support.js';

const MODULE = 'example.com/swf-sidecar-worker';

describe('examples/go against a sidecar in front of moto', () => {
  let moto: Moto;
  let sidecar: SidecarProcess;
  let dir: string;
  let failtask: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'swf-sidecar-example-go-'));
    const module = join(dir, 'go');
    mkdirSync(module);
    for (const file of ['go.mod', 'go.sum', 'main.go']) copyFileSync(join(EXAMPLES, 'go', file), join(module, file));
    const mapping = `Mswfsidecar/v1/sidecar.proto=${MODULE}/gen/swfsidecarv1`;
    const generated = await run(
      debianTool('protoc'),
      [
        `-I${PROTO_ROOT}`,
        `--plugin=protoc-gen-go=${goBinary('protoc-gen-go')}`,
        `--plugin=protoc-gen-go-grpc=${goBinary('protoc-gen-go-grpc')}`,
        `--go_out=${module}`,
        `--go-grpc_out=${module}`,
        `--go_opt=module=${MODULE}`,
        `--go-grpc_opt=module=${MODULE}`,
        `--go_opt=${mapping}`,
        `--go-grpc_opt=${mapping}`,
        PROTO_FILE,
      ],
      { env: { PATH: process.env['PATH'] ?? '' } },
    );
    assert.equal(generated.code, 0, generated.stderr);
    failtask = join(dir, 'failtask');
    const built = await run(goTool(), ['build', '-o', failtask, '.'], {
      cwd: module,
      env: { ...process.env, GOPROXY: 'off', GOFLAGS: '-mod=readonly -buildvcs=false', GOTOOLCHAIN: 'local' },
      timeoutMs: 300_000,
    });
    assert.equal(
      built.code,
      0,
      `go build failed (a module missing from the cache? run scripts/setup/30-examples.sh):\n${built.stderr}`,
    );
    moto = await startMoto();
    sidecar = await spawnSidecar({ AWS_ENDPOINT_URL_SWF: moto.url });
  });
  after(async () => {
    await sidecar?.stop();
    await moto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const failTask = (address: string, token: string, reason: string) =>
    run(failtask, ['-task-token', token, '-reason', reason, '-retry-policy', RETRY_POLICY], {
      env: { PATH: process.env['PATH'] ?? '', SWF_SIDECAR_ADDRESS: address },
    });

  test('fails a real task: ActivityTaskFailed in the history, the token never printed', async () => {
    const [task] = await openActivityTasks(moto, 1);
    assert.ok(task);
    const result = await failTask(sidecar.grpcAddress, task.taskToken, 'disk full ✗');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /reported: OUTCOME_DELIVERED after 1 SWF call\(s\)\n$/);
    assert.ok(!`${result.stdout}${result.stderr}`.includes(task.taskToken));
    const events = await activityTaskFailedEvents(moto, task);
    assert.deepEqual(
      events.map(({ reason, details }) => ({ reason, details })),
      [{ reason: 'processing the task: disk full ✗', details: 'processing the task: disk full ✗' }],
    );
  });

  test('INVALID_ARGUMENT is given up: exit 1, the status named', async () => {
    const result = await failTask(sidecar.grpcAddress, 'not-a-real-token', 'r');
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /could not report the failure, the request is wrong: InvalidArgument: /);
  });

  test('the retry policy is in force: a call made before the sidecar listens still gets through', async () => {
    const { result, task } = await reportBeforeSidecarListens(
      moto,
      (address, token) => failTask(address, token, 'started first'),
      1_000,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal((await activityTaskFailedEvents(moto, task))[0]?.reason, 'processing the task: started first');
  });
});
