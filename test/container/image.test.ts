/**
 * The container image: the repository's Dockerfile built unchanged with buildah and run with
 * podman the way Kubernetes runs the chart's sidecar (read-only root filesystem with no writable
 * /tmp, every capability dropped, no-new-privileges, the image's own non-root user, the host's
 * network standing in for the pod's), against moto.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chown, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connectClient } from '../support/grpc-client.js';
import { activityTaskFailedEvents, openActivityTasks, startMoto, type Moto } from '../support/moto.js';
import { FakeSwf } from '../support/fake-swf.js';
import { spawnSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import {
  containerLauncher,
  IMAGE_JOURNAL_DIR,
  IMAGE_UID,
  LOCKED_DOWN_RUN_FLAGS,
  podman,
  removeContainer,
  sidecarImage,
} from '../support/container.js';
import { logLines, until } from '../robustness/robustness-support.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const packageJson = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as {
  version: string;
  devDependencies: Record<string, string>;
};
const packageVersion = packageJson.version;
/**
 * The dev dependencies that must not be in the image. Type packages are left out: runtime
 * libraries may depend on them (protobufjs depends on @types/node).
 */
const devDependencies = Object.keys(packageJson.devDependencies).filter((name) => !name.startsWith('@types/'));

/** A name unique to this run, so parallel runs and leftovers never collide. */
const containerName = (what: string): string => `swf-sidecar-test-${what}-${process.pid}`;

/** A host directory for the journal volume, owned by the image's user as a pod's fsGroup would make it. */
async function journalVolume(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'swf-sidecar-image-journal-'));
  await chown(directory, IMAGE_UID, IMAGE_UID);
  return directory;
}

/** `/proc/1/status` fields of the container's PID 1, read through `podman exec`. */
async function pid1Status(name: string): Promise<Record<string, string>> {
  const { code, stdout, stderr } = await podman(['exec', name, 'cat', '/proc/1/status']);
  assert.equal(code, 0, stderr);
  return Object.fromEntries(
    stdout
      .split('\n')
      .map((line) => /^(\w+):\s*(.*)$/.exec(line))
      .filter((match) => match !== null)
      .map((match) => [match[1]!, match[2]!]),
  );
}

describe('container image (buildah + podman)', { timeout: 20 * 60_000 }, () => {
  let image: string;
  let moto: Moto;
  const containers: string[] = [];
  const directories: string[] = [];

  const startContainer = async (
    what: string,
    env: Record<string, string>,
    journalHostDir?: string,
  ): Promise<SidecarProcess> => {
    const name = containerName(what);
    containers.push(name);
    await removeContainer(name);
    return spawnSidecar(env, {
      readyTimeoutMs: 60_000,
      launcher: containerLauncher(image, { name, ...(journalHostDir === undefined ? {} : { journalHostDir }) }),
    });
  };

  /** `podman run` of the image as a one-off command (the CLI), locked down like the sidecar. */
  const runImage = (args: readonly string[], runFlags: readonly string[] = []) =>
    podman(['run', '--rm', ...LOCKED_DOWN_RUN_FLAGS, ...runFlags, image, ...args]);

  before(async () => {
    image = await sidecarImage();
    moto = await startMoto();
  });

  after(async () => {
    for (const name of containers) await removeContainer(name);
    await moto?.stop();
    for (const directory of directories) await rm(directory, { recursive: true, force: true });
  });

  it('is configured as documented: user, entrypoint, ports, volume, labels', async (t) => {
    const { code, stdout, stderr } = await podman(['image', 'inspect', image]);
    assert.equal(code, 0, stderr);
    const [inspected] = JSON.parse(stdout) as {
      Size: number;
      Config: {
        User: string;
        Entrypoint: string[];
        Cmd: string[];
        ExposedPorts: Record<string, unknown>;
        Volumes: Record<string, unknown>;
        Labels: Record<string, string>;
        Env: string[];
      };
    }[];
    assert.ok(inspected);
    const { Config: config } = inspected;
    assert.equal(config.User, `${IMAGE_UID}:${IMAGE_UID}`);
    assert.deepEqual(config.Entrypoint, ['node', '--max-semi-space-size=16', '/app/bin/swf-sidecar.js']);
    assert.deepEqual(config.Cmd, ['serve']);
    assert.deepEqual(Object.keys(config.ExposedPorts).sort(), ['50051/tcp', '9464/tcp']);
    assert.deepEqual(Object.keys(config.Volumes), [IMAGE_JOURNAL_DIR]);
    assert.ok(config.Env.includes(`SWF_SIDECAR_JOURNAL_DIR=${IMAGE_JOURNAL_DIR}`));
    assert.equal(config.Labels['org.opencontainers.image.version'], packageVersion);
    assert.equal(
      config.Labels['org.opencontainers.image.revision'],
      execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim(),
    );
    assert.equal(config.Labels['org.opencontainers.image.licenses'], 'Apache-2.0');
    for (const label of ['source', 'description']) {
      assert.ok(config.Labels[`org.opencontainers.image.${label}`], `label org.opencontainers.image.${label}`);
    }

    const base = await podman(['image', 'inspect', '--format', '{{.Size}}', 'node:24-bookworm-slim']);
    const baseSize = Number(base.stdout.trim());
    t.diagnostic(
      `image ${(inspected.Size / 1e6).toFixed(1)} MB, of which ${((inspected.Size - baseSize) / 1e6).toFixed(1)} MB above node:24-bookworm-slim`,
    );
  });

  it("keeps the Dockerfile's default VERSION in step with package.json", async () => {
    const dockerfile = await readFile(join(REPO, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, new RegExp(`^ARG VERSION=${packageVersion.replaceAll('.', '\\.')}$`, 'm'));
  });

  it('holds only what serve and the CLI need, on Node.js 24', async () => {
    const listing = await runImage(
      [
        '-e',
        `const fs = require('node:fs');
         const walk = (dir) => fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
           entry.isDirectory() ? walk(dir + '/' + entry.name) : [dir + '/' + entry.name]);
         process.stdout.write(JSON.stringify({
           node: process.version,
           app: fs.readdirSync('/app').sort(),
           ours: walk('/app/dist').concat(walk('/app/bin'), walk('/app/proto')),
           modules: ${JSON.stringify(devDependencies)}.filter((name) => fs.existsSync('/app/node_modules/' + name)),
         }));`,
      ],
      ['--entrypoint', 'node'],
    );
    assert.equal(listing.code, 0, listing.stderr);
    const { node, app, ours, modules } = JSON.parse(listing.stdout) as {
      node: string;
      app: string[];
      ours: string[];
      modules: string[];
    };
    assert.match(node, /^v24\./);
    assert.deepEqual(app, ['bin', 'dist', 'node_modules', 'package.json', 'proto']);
    assert.deepEqual(
      ours.filter((file) => /\.(ts|map)$/.test(file)),
      [],
      'no TypeScript sources or source maps',
    );
    assert.ok(ours.includes('/app/dist/cli/main.js'));
    assert.deepEqual(modules, [], 'dev dependencies in the image');
    assert.ok(ours.includes('/app/proto/swfsidecar/v1/sidecar.proto'));
  });

  it('serves locked down: fails a real moto task, runs as non-root, writes only the journal, drains on podman stop', async (t) => {
    const journal = await journalVolume();
    directories.push(journal);
    const sidecar = await startContainer(
      'serve',
      {
        AWS_ENDPOINT_URL_SWF: moto.url,
        // Slow enough that the 20 QUEUED reports below are still outstanding when podman stop comes.
        SWF_SIDECAR_RATE_PER_SECOND: '10',
        SWF_SIDECAR_BURST: '2',
      },
      journal,
    );
    const name = containerName('serve');
    const client = connectClient(sidecar.grpcAddress);
    try {
      const [task, ...queued] = await openActivityTasks(moto, 21);
      assert.ok(task);
      const response = await client.fail({ taskToken: task.taskToken, reason: 'disk full', details: 'in a container' });
      assert.deepEqual(response, { outcome: 'OUTCOME_DELIVERED', attempts: 1 });
      const [event] = await activityTaskFailedEvents(moto, task);
      assert.deepEqual([event?.reason, event?.details], ['disk full', 'in a container']);

      const status = await pid1Status(name);
      assert.match(status['Uid'] ?? '', new RegExp(`^${IMAGE_UID}\\s+${IMAGE_UID}\\s+${IMAGE_UID}\\s+${IMAGE_UID}$`));
      assert.match(status['Gid'] ?? '', new RegExp(`^${IMAGE_UID}\\s`));
      assert.equal(status['CapEff'], '0000000000000000');
      assert.equal(status['CapPrm'], '0000000000000000');
      assert.equal(status['NoNewPrivs'], '1');
      const cmdline = await podman(['exec', name, 'cat', '/proc/1/cmdline']);
      assert.deepEqual(
        cmdline.stdout.split('\0').slice(0, 4),
        ['node', '--max-semi-space-size=16', '/app/bin/swf-sidecar.js', 'serve'],
        'node is PID 1',
      );

      const { results } = await client.failMany({
        tasks: queued.map((each) => ({ taskToken: each.taskToken, reason: 'queued', delivery: 'DELIVERY_QUEUED' })),
      });
      assert.ok(results.every((result) => result.outcome === 'OUTCOME_QUEUED'));
      const deliveredBeforeStop = (
        await Promise.all(queued.map((each) => activityTaskFailedEvents(moto, each)))
      ).filter((events) => events.length > 0).length;

      const stop = await podman(['stop', '--time', '30', name], 60_000);
      assert.equal(stop.code, 0, stop.stderr);
      assert.deepEqual(await sidecar.exited, { code: 0, signal: null });
      assert.deepEqual(
        logLines(sidecar, 'stopped').map((line) => line['undelivered']),
        [0],
      );
      for (const each of queued) assert.equal((await activityTaskFailedEvents(moto, each)).length, 1);
      t.diagnostic(`${deliveredBeforeStop} of ${queued.length} QUEUED reports were delivered before podman stop`);

      const diff = await podman(['diff', name]);
      assert.equal(diff.code, 0, diff.stderr);
      // The root filesystem was read-only with no tmpfs, so the sidecar could not write there;
      // the diff confirms it. podman itself creates the mount points of /etc/hosts,
      // /etc/resolv.conf and /etc/hostname (and /run/.containerenv), which shows as a changed /etc.
      const written = diff.stdout
        .split('\n')
        .filter(
          (line) =>
            line !== '' && !/^[AC] \/(etc|run|etc\/(hosts|resolv\.conf|hostname)|run\/\.containerenv)$/.test(line),
        );
      assert.deepEqual(written, [], 'nothing written outside the journal volume');
      assert.ok((await readdir(journal)).length > 0, 'the journal volume was written');
      const exitCode = await podman(['inspect', '--format', '{{.State.ExitCode}}', name]);
      assert.equal(exitCode.stdout.trim(), '0');
    } finally {
      client.close();
    }
  });

  it('keeps QUEUED reports accepted while SWF is unreachable, and the next container delivers them', async (t) => {
    const journal = await journalVolume();
    directories.push(journal);
    const tasks = await openActivityTasks(moto, 5);
    // SWF out of reach: every connection dropped before an answer. A server of our own holds the
    // port for the whole test; a port merely found free could be taken by another test's server
    // (a moto or a fake of a test file running beside this one), which would answer the reports.
    const unreachable = await FakeSwf.start({ resetRate: 1 });
    t.after(() => unreachable.close());

    const first = await startContainer(
      'queued-a',
      { AWS_ENDPOINT_URL_SWF: unreachable.url, SWF_SIDECAR_SHUTDOWN_GRACE_MS: '500' },
      journal,
    );
    const client = connectClient(first.grpcAddress);
    try {
      for (const task of tasks) {
        const response = await client.fail({ taskToken: task.taskToken, reason: 'kept', delivery: 'DELIVERY_QUEUED' });
        assert.deepEqual(response, { outcome: 'OUTCOME_QUEUED', attempts: 0 });
      }
    } finally {
      client.close();
    }
    const stop = await podman(['stop', '--time', '30', containerName('queued-a')], 60_000);
    assert.equal(stop.code, 0, stop.stderr);
    assert.deepEqual(await first.exited, { code: 0, signal: null });
    assert.deepEqual(
      logLines(first, 'stopped').map((line) => line['undelivered']),
      [tasks.length],
      'the first container stopped with every report undelivered',
    );
    assert.deepEqual(
      new Set(unreachable.calls.map((call) => call.answer)),
      new Set(['reset']),
      'the first container tried SWF and was dropped',
    );
    for (const task of tasks) assert.equal((await activityTaskFailedEvents(moto, task)).length, 0);

    const second = await startContainer('queued-b', { AWS_ENDPOINT_URL_SWF: moto.url }, journal);
    await until(
      async () =>
        (await Promise.all(tasks.map((task) => activityTaskFailedEvents(moto, task)))).every(
          (events) => events.length === 1,
        ),
      {
        timeoutMs: 30_000,
        intervalMs: 200,
        describe: () =>
          `the replayed reports in moto history; the second container logged ${JSON.stringify(second.logs)}`,
      },
    );
    assert.deepEqual(
      logLines(second, /^replaying undelivered QUEUED reports/).map((line) => line['reports']),
      [tasks.length],
    );
    await podman(['stop', '--time', '30', containerName('queued-b')], 60_000);
    assert.deepEqual(await second.exited, { code: 0, signal: null });
  });

  it("runs the CLI with the AWS CLI's exit codes", async () => {
    const sidecar = await startContainer('cli-target', { AWS_ENDPOINT_URL_SWF: moto.url });
    const [task] = await openActivityTasks(moto, 1);
    assert.ok(task);
    const cli = (...args: string[]) =>
      runImage(['respond-activity-task-failed', '--endpoint', sidecar.grpcAddress, '--timeout', '20', ...args]);

    const ok = await cli('--task-token', task.taskToken, '--reason', 'from the image', '--details', 'cli');
    assert.deepEqual([ok.code, ok.stdout, ok.stderr], [0, '', '']);
    const [event] = await activityTaskFailedEvents(moto, task);
    assert.deepEqual([event?.reason, event?.details], ['from the image', 'cli']);

    const usage = await cli('--reason', 'no token');
    assert.equal(usage.code, 252, usage.stderr);
    assert.match(usage.stderr, /--task-token/);

    const refused = await cli('--task-token', 'not-a-task-token', '--reason', 'bad token');
    assert.equal(refused.code, 254, refused.stderr);
    assert.match(refused.stderr, /INVALID_ARGUMENT|ValidationException/);

    // Port 1: nothing listens there, and no test server can be handed it (port 0 and freePort
    // draw from the ephemeral range), unlike a port merely found free a moment ago.
    const unreachable = await runImage([
      'respond-activity-task-failed',
      '--endpoint',
      '127.0.0.1:1',
      '--timeout',
      '5',
      '--task-token',
      'any',
    ]);
    assert.equal(unreachable.code, 255, unreachable.stderr);
    await podman(['stop', '--time', '30', containerName('cli-target')], 60_000);
    assert.deepEqual(await sidecar.exited, { code: 0, signal: null });
  });

  it('exits 2 with the one-line message on a bad setting, no stack trace', async () => {
    const bad = await runImage([], ['--env', 'SWF_SIDECAR_RATE_PER_SECOND=fast', '--env', 'AWS_REGION=us-east-1']);
    assert.equal(bad.code, 2, bad.stderr);
    const lines = bad.stderr.trim().split('\n');
    assert.equal(lines.length, 1, bad.stderr);
    assert.match(
      lines[0]!,
      /^swf-sidecar: invalid configuration: SWF_SIDECAR_RATE_PER_SECOND: expected a number above 0, got "fast"$/,
    );
    assert.doesNotMatch(bad.stderr, /\n\s+at /);
    assert.equal(bad.stdout, '');
  });
});
