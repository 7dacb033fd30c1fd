/**
 * The chart's rendered Deployment, run: `podman kube play` plays it with the sidecar image built
 * from the repository's Dockerfile and a worker image built from it with examples/shell/fail-task.sh,
 * against moto. The worker's failure must reach moto's history, the probes' endpoints must answer,
 * and stopping the pod must drain the sidecar.
 *
 * What podman 4.3 (Debian 12) cannot play, found by trying, and what the test does instead:
 * - native sidecars: it refuses an init container with probes ("cannot create an init container
 *   that has either of lifecycle, livenessProbe, readinessProbe, or startupProbe set"), so the
 *   `sidecar.native: false` rendering is played (the test asserts that refusal, to notice a podman
 *   that plays it);
 * - containerPort with `--network host` ("PortMappings can only be used with Bridge or slirp4netns
 *   networking"): the ports are taken out of the played copy (the pod uses the host's network);
 * - `kube down` did not deliver SIGTERM before removing the pod in our tries (14 s, no drain
 *   logged), so the pod is first stopped as the kubelet would, SIGTERM then the pod's
 *   terminationGracePeriodSeconds, and `kube down` removes it afterwards;
 * - its probes become healthchecks that need systemd timers (none here): the test calls the
 *   probes' endpoints itself.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { buildah, podman, sidecarImage } from '../support/container.js';
import { freePort } from '../support/free-port.js';
import { chartWorkspace, find, render, REPO, type K8sObject } from '../support/helm-tools.js';
import {
  activityTaskFailedEvents,
  DUMMY_CREDENTIALS,
  openActivityTasks,
  REGION,
  startMoto,
  type Moto,
  type OpenedActivityTask,
} from '../support/moto.js';

interface Container {
  name: string;
  ports?: unknown;
  env?: { name: string; value?: string }[];
}
interface PodSpec {
  initContainers?: Container[];
  containers: Container[];
  terminationGracePeriodSeconds: number;
}

/** A V8 flag the image does not set, passed through the chart's sidecar.extraNodeFlags. */
const EXTRA_NODE_FLAG = '--single-threaded-gc';
const dir = mkdtempSync(join(tmpdir(), 'swf-sidecar-kube-play-'));
const suffix = `${process.pid}-${Date.now().toString(36)}`;
const release = `kp-${suffix}`;
const secretName = `swf-kp-aws-${suffix}`;

async function ok(what: string, result: Promise<{ code: number; stdout: string; stderr: string }>): Promise<string> {
  const { code, stdout, stderr } = await result;
  assert.equal(code, 0, `${what} exited ${code}: ${stderr}${stdout}`);
  return stdout;
}

/**
 * The worker image, built the same way as the sidecar's (buildah, from the sidecar image, so the
 * swf-sidecar CLI is there): examples/shell/fail-task.sh and an `swf-sidecar` command on PATH.
 * Cached by the sidecar image and the script.
 */
async function workerImage(sidecar: string): Promise<string> {
  const script = readFileSync(join(REPO, 'examples/shell/fail-task.sh'));
  const cli = '#!/bin/sh\nexec node /app/bin/swf-sidecar.js "$@"\n';
  const key = createHash('sha256').update(sidecar).update(script).update(cli).digest('hex').slice(0, 16);
  const tag = `localhost/swf-sidecar-shell-worker:${key}`;
  if ((await buildah(['inspect', '--type', 'image', tag])).code === 0) return tag;
  writeFileSync(join(dir, 'swf-sidecar'), cli);
  const container = (await ok('buildah from', buildah(['from', '--pull-never', sidecar]))).trim();
  try {
    await ok(
      'buildah copy',
      buildah([
        'copy',
        '--chmod',
        '0755',
        container,
        join(REPO, 'examples/shell/fail-task.sh'),
        '/usr/local/bin/fail-task.sh',
      ]),
    );
    await ok(
      'buildah copy',
      buildah(['copy', '--chmod', '0755', container, join(dir, 'swf-sidecar'), '/usr/local/bin/swf-sidecar']),
    );
    await ok('buildah config', buildah(['config', '--entrypoint', '[]', '--cmd', '[]', container]));
    await ok('buildah commit', buildah(['commit', '--quiet', container, tag], 300_000));
  } finally {
    await buildah(['rm', container]);
  }
  return tag;
}

/** A podman secret as podman 4.3's kube play reads one for secretKeyRef: a JSON map of base64 values. */
async function createAwsSecret(): Promise<void> {
  const file = join(dir, 'aws-secret.json');
  writeFileSync(
    file,
    JSON.stringify({
      AWS_ACCESS_KEY_ID: Buffer.from(DUMMY_CREDENTIALS.accessKeyId).toString('base64'),
      AWS_SECRET_ACCESS_KEY: Buffer.from(DUMMY_CREDENTIALS.secretAccessKey).toString('base64'),
    }),
  );
  await ok('podman secret create', podman(['secret', 'create', secretName, file]));
}

function split(image: string): { repository: string; tag: string } {
  const at = image.lastIndexOf(':');
  return { repository: image.slice(0, at), tag: image.slice(at + 1) };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what} ${last}`);
}

describe('podman kube play of the rendered Deployment', { timeout: 900_000 }, () => {
  let moto: Moto;
  let task: OpenedActivityTask;
  let deployment: K8sObject;
  let playFile = '';
  let metricsPort = 0;
  let pod = '';

  before(async () => {
    const sidecar = await sidecarImage();
    const worker = await workerImage(sidecar);
    moto = await startMoto();
    [task] = (await openActivityTasks(moto, 1)) as [OpenedActivityTask];
    metricsPort = await freePort();
    const grpcPort = await freePort();
    const values = (native: boolean): Record<string, unknown> => ({
      worker: {
        image: { ...split(worker), pullPolicy: 'Never' },
        // The example script fails the task, then the worker idles until SIGTERM.
        command: [
          '/bin/sh',
          '-c',
          `fail-task.sh "$TASK_TOKEN" 'disk full' 'from podman kube play' && echo reported; trap 'exit 0' TERM; sleep 3600 & wait`,
        ],
        env: [{ name: 'TASK_TOKEN', value: task.taskToken }],
        stopSeconds: 5,
      },
      sidecar: {
        native,
        image: { ...split(sidecar), pullPolicy: 'Never' },
        grpc: { port: grpcPort },
        metrics: { port: metricsPort },
        aws: { region: REGION, endpointUrl: moto.url, credentialsSecret: secretName },
        config: { shutdownGraceMs: 5000 },
        // The played (plain) rendering also proves sidecar.extraNodeFlags: node takes the flag.
        ...(native ? {} : { extraNodeFlags: [EXTRA_NODE_FLAG] }),
      },
    });
    const played = (native: boolean): K8sObject => {
      const object = find(
        render(chartWorkspace().app, { release, namespace: 'default', values: values(native) }),
        'Deployment',
      );
      const spec = (object['spec'] as { template: { spec: PodSpec } }).template.spec;
      for (const container of [...spec.containers, ...(spec.initContainers ?? [])]) delete container.ports;
      return object;
    };
    // Native first: podman 4.3 refuses it (see above); then the plain-container rendering.
    const nativeFile = join(dir, 'native.json');
    writeFileSync(nativeFile, JSON.stringify(played(true)));
    await createAwsSecret();
    const refused = await podman(['kube', 'play', '--network', 'host', nativeFile], 300_000);
    await podman(['kube', 'down', nativeFile]);
    assert.notEqual(
      refused.code,
      0,
      'podman played a native sidecar: play the native rendering here and update the chart README',
    );
    assert.match(
      refused.stderr,
      /cannot create an init container that has either of lifecycle, livenessProbe, readinessProbe, or startupProbe set/,
    );

    deployment = played(false);
    playFile = join(dir, 'deployment.json');
    writeFileSync(playFile, JSON.stringify(deployment));
    await ok('podman kube play', podman(['kube', 'play', '--network', 'host', playFile], 600_000));
    pod = `${deployment.metadata.name}-pod-0`;
  });

  after(async () => {
    if (playFile !== '') await podman(['kube', 'down', playFile]);
    await podman(['secret', 'rm', secretName]);
    await moto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the probes` endpoints answer: /readyz and /healthz on the metrics port', async () => {
    for (const path of ['/readyz', '/healthz']) {
      const status = await waitFor(
        path,
        async () => {
          const response = await fetch(`http://127.0.0.1:${metricsPort}${path}`);
          return response.status === 200 ? 200 : undefined;
        },
        60_000,
      );
      assert.equal(status, 200);
    }
  });

  it('the worker`s failure reaches moto`s history through the sidecar', async () => {
    const events = await waitFor(
      'the ActivityTaskFailed event',
      async () => {
        const found = await activityTaskFailedEvents(moto, task);
        return found.length > 0 ? found : undefined;
      },
      60_000,
    );
    assert.equal(events.length, 1);
    assert.equal(events[0]!.reason, 'disk full');
    assert.equal(events[0]!.details, 'from podman kube play');
    const logs = await ok('podman logs', podman(['logs', `${pod}-worker`]));
    assert.match(logs, /reported/);
  });

  it('the sidecar runs with sidecar.extraNodeFlags on its node command line', async () => {
    const cmdline = await ok('podman exec', podman(['exec', `${pod}-swf-sidecar`, 'cat', '/proc/1/cmdline']));
    const args = cmdline.split('\0');
    assert.equal(args[0], 'node');
    assert.ok(args.includes(EXTRA_NODE_FLAG), args.join(' '));
    assert.deepEqual(args.slice(-3, -1), ['/app/bin/swf-sidecar.js', 'serve']);
  });

  it('stopping the pod drains the sidecar, which exits 0, within the computed grace period', async () => {
    const grace = (deployment['spec'] as { template: { spec: PodSpec } }).template.spec.terminationGracePeriodSeconds;
    assert.equal(grace, 5 + 5 + 5);
    const started = Date.now();
    await ok('podman pod stop', podman(['pod', 'stop', '-t', String(grace), pod], (grace + 30) * 1000));
    assert.ok(
      Date.now() - started < grace * 1000,
      'the pod needed its whole grace period: SIGTERM did not reach a container',
    );
    // podman logs replays the container's stdout (JSON lines) and stderr (the signal line) separately.
    const { stdout, stderr } = await podman(['logs', `${pod}-swf-sidecar`]);
    const logs = stdout + stderr;
    assert.match(logs, /SIGTERM received, draining/);
    assert.match(logs, /"undelivered":0,"msg":"stopped"/);
    const exitCode = await ok(
      'podman inspect',
      podman(['inspect', '--format', '{{.State.ExitCode}}', `${pod}-swf-sidecar`]),
    );
    assert.equal(exitCode.trim(), '0');
    await ok('podman kube down', podman(['kube', 'down', playFile]));
    playFile = '';
  });
});
