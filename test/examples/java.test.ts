/**
 * examples/java builds with Maven (stubs generated from proto/ by the pinned protoc and
 * protoc-gen-grpc-java from Maven Central) and fails real tasks through a sidecar in front of
 * moto. Maven runs offline (-o) into a temporary build folder: the plugins, dependencies and
 * code generators come from ~/.m2, which scripts/setup/30-examples.sh fills.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { activityTaskFailedEvents, openActivityTasks, startMoto, type Moto } from '../support/moto.js';
import { spawnSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import { mavenTool } from '../support/example-tools.js';
import { EXAMPLES, RETRY_POLICY, reportBeforeSidecarListens, run } from './support.js';

const MAVEN_OPTS = '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC';

describe('examples/java against a sidecar in front of moto', () => {
  let moto: Moto;
  let sidecar: SidecarProcess;
  let dir: string;
  let jar: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'swf-sidecar-example-java-'));
    const built = await run(
      mavenTool(),
      [
        '-o',
        '-B',
        '-q',
        '-Dstyle.color=never',
        '-f',
        join(EXAMPLES, 'java', 'pom.xml'),
        `-Dexample.buildDir=${join(dir, 'target')}`,
        'package',
      ],
      // A short build: the JVM's quick compiler and serial GC halve Maven's CPU time.
      { env: { ...process.env, MAVEN_OPTS: MAVEN_OPTS }, timeoutMs: 300_000 },
    );
    assert.equal(
      built.code,
      0,
      `mvn package failed (offline: ~/.m2 incomplete? run scripts/setup/30-examples.sh):\n${built.stdout}${built.stderr}`,
    );
    jar = join(dir, 'target', 'swf-sidecar-java-example.jar');
    moto = await startMoto();
    sidecar = await spawnSidecar({ AWS_ENDPOINT_URL_SWF: moto.url });
  });
  after(async () => {
    await sidecar?.stop();
    await moto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const failTask = (address: string, token: string, reason: string) =>
    run('java', [`-DretryPolicy=${RETRY_POLICY}`, '-jar', jar, token, reason], {
      // The JVM decodes its arguments in the locale's charset: UTF-8, for the '✗' below.
      env: { PATH: process.env['PATH'] ?? '', LANG: 'C.UTF-8', SWF_SIDECAR_ADDRESS: address },
    });

  test('fails a real task: ActivityTaskFailed in the history, the token never printed', async () => {
    const [task] = await openActivityTasks(moto, 1);
    assert.ok(task);
    const result = await failTask(sidecar.grpcAddress, task.taskToken, 'disk full ✗');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /INFO: reported: OUTCOME_DELIVERED after 1 SWF call\(s\)\n$/);
    assert.ok(!`${result.stdout}${result.stderr}`.includes(task.taskToken));
    const events = await activityTaskFailedEvents(moto, task);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.reason, 'IllegalStateException: disk full ✗');
    assert.match(
      events[0]?.details ?? '',
      /^java\.lang\.IllegalStateException: disk full ✗\n\tat io\.swfsidecar\.examples\.FailTask\.main\(FailTask\.java:\d+\)\n$/,
    );
  });

  test('INVALID_ARGUMENT is given up: exit 1, the status named', async () => {
    const result = await failTask(sidecar.grpcAddress, 'not-a-real-token', 'r');
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /SEVERE: could not report the failure, the request is wrong: INVALID_ARGUMENT: /);
  });

  test('the retry policy is in force: a call made before the sidecar listens still gets through', async () => {
    const { result, task } = await reportBeforeSidecarListens(
      moto,
      (address, token) => failTask(address, token, 'started first'),
      1_500,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal((await activityTaskFailedEvents(moto, task))[0]?.reason, 'IllegalStateException: started first');
  });
});
