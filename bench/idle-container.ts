/**
 * Measurement 9c: measurement 9 for the container image as the chart runs it (podman, locked
 * down, host network, the journal volume the image turns on), against the bare grpc-js server on
 * the image's own Node.js (SWF_SIDECAR_NODE24) as a host process in the same window. The
 * container's node is measured from the host's /proc, through the PID podman reports.
 *
 *   node --import tsx bench/idle-container.ts [--seconds=60] [--settle=30]   alone (npm run build first)
 *
 * Needs podman and buildah as scripts/setup provides them; builds the image first (cached).
 */
import { mkdtempSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  IMAGE_JOURNAL_DIR,
  LOCKED_DOWN_RUN_FLAGS,
  podman,
  removeContainer,
  sidecarImage,
} from '../test/support/container.js';
import type { FakeSwf } from '../test/support/fake-swf.js';
import { toolVariable } from '../test/support/tool-env.js';
import { type IdleFigures, idleFigures } from './idle.js';
import type { MeasurementResult, Row } from './report.js';
import { fixed, mib } from './support/format.js';
import { waitForServing } from './support/health.js';
import { freePort } from '../test/support/free-port.js';
import { ForeignLoadWindow, threadsSample } from './support/proc.js';
import { startBareServer } from './support/servers.js';

export interface IdleContainerOptions {
  readonly seconds: number;
  readonly settleSeconds: number;
}

export const IDLE_CONTAINER_DEFAULTS: IdleContainerOptions = { seconds: 60, settleSeconds: 30 };

const CPU_MARGIN_VCPU = 0.001;
const ANON_RSS_MARGIN_BYTES = 8 * 2 ** 20;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function measureIdleContainer(
  fake: FakeSwf,
  options: IdleContainerOptions = IDLE_CONTAINER_DEFAULTS,
): Promise<MeasurementResult> {
  const node24 = toolVariable('SWF_SIDECAR_NODE24');
  const podmanWorks = await podman(['version'], 30_000).then(
    (result) => result.code === 0,
    () => false,
  );
  if (node24 === undefined || !podmanWorks) {
    const why = node24 === undefined ? 'no SWF_SIDECAR_NODE24 (run scripts/test.sh once)' : 'podman does not run here';
    const skipped: Row = {
      id: '9c',
      what: 'idle CPU and memory, the image under podman',
      sidecar: `skipped: ${why}`,
      baseline: '-',
      figure: '-',
      target: '<= bare + 0.001 vCPU, + 8 MB',
      verdict: 'info',
    };
    return { id: '9c', title: 'idle container', rows: [skipped], raw: { skipped: why } };
  }
  const image = await sidecarImage();
  const name = `swf-sidecar-idle-${process.pid}`;
  const journal = mkdtempSync(join(tmpdir(), 'swf-idle-journal-'));
  chmodSync(journal, 0o777);
  const grpcPort = await freePort();
  const metricsPort = await freePort();
  const env = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    // The fake listens on 127.0.0.1 of the host, which is the container's with --network host.
    AWS_ENDPOINT_URL_SWF: fake.url,
    SWF_SIDECAR_ADDRESS: `127.0.0.1:${grpcPort}`,
    SWF_SIDECAR_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
  };
  const bare = await startBareServer(node24);
  const foreign = new ForeignLoadWindow();
  let seconds: number;
  let sidecar: IdleFigures;
  let bareFigures: IdleFigures;
  try {
    const run = await podman([
      'run',
      '--detach',
      '--name',
      name,
      ...LOCKED_DOWN_RUN_FLAGS,
      '--volume',
      `${journal}:${IMAGE_JOURNAL_DIR}`,
      ...Object.entries(env).flatMap(([key, value]) => ['--env', `${key}=${value}`]),
      image,
    ]);
    if (run.code !== 0) throw new Error(`podman run: ${run.stderr}`);
    await waitForServing(env.SWF_SIDECAR_ADDRESS, 30_000);
    const inspect = await podman(['inspect', '--format', '{{.State.Pid}}', name]);
    const pid = Number(inspect.stdout.trim());
    if (!(pid > 0)) throw new Error(`no PID for ${name}: ${inspect.stdout} ${inspect.stderr}`);
    await sleep(options.settleSeconds * 1000);
    const before = { bare: threadsSample(bare.pid), sidecar: threadsSample(pid) };
    const t0 = performance.now();
    foreign.start();
    await sleep(options.seconds * 1000);
    foreign.stop();
    seconds = (performance.now() - t0) / 1000;
    bareFigures = idleFigures(bare.pid, before.bare, threadsSample(bare.pid), seconds);
    sidecar = idleFigures(pid, before.sidecar, threadsSample(pid), seconds);
  } finally {
    await Promise.all([bare.stop(), removeContainer(name)]);
    rmSync(journal, { recursive: true, force: true });
  }
  const cpuOk = sidecar.vcpu <= bareFigures.vcpu + CPU_MARGIN_VCPU;
  const memoryOk = sidecar.anonRssBytes <= bareFigures.anonRssBytes + ANON_RSS_MARGIN_BYTES;
  const rows: Row[] = [
    {
      id: '9c',
      what: `idle CPU, ${fixed(seconds, 0)} s with no call, the image under podman (journal on)`,
      sidecar: `${fixed(sidecar.vcpu, 5)} vCPU; main thread woken ${fixed(sidecar.mainWakeupsPerSecond, 1)}/s`,
      baseline: `bare grpc-js on the image's Node ${fixed(bareFigures.vcpu, 5)} vCPU`,
      figure: `${sidecar.vcpu >= bareFigures.vcpu ? '+' : ''}${fixed(sidecar.vcpu - bareFigures.vcpu, 5)} vCPU`,
      target: `<= bare + ${CPU_MARGIN_VCPU} vCPU`,
      verdict: cpuOk ? 'pass' : 'miss',
      ...(cpuOk ? {} : { missBy: `+${fixed(sidecar.vcpu - bareFigures.vcpu - CPU_MARGIN_VCPU, 5)} vCPU over` }),
    },
    {
      id: '9c',
      what: 'idle anonymous RSS, the image under podman (journal on)',
      sidecar: `${mib(sidecar.anonRssBytes)} (RSS ${mib(sidecar.rssBytes)})`,
      baseline: `bare grpc-js ${mib(bareFigures.anonRssBytes)} (RSS ${mib(bareFigures.rssBytes)})`,
      figure: `${sidecar.anonRssBytes >= bareFigures.anonRssBytes ? '+' : '-'}${mib(Math.abs(sidecar.anonRssBytes - bareFigures.anonRssBytes))}`,
      target: `<= bare + ${mib(ANON_RSS_MARGIN_BYTES)}`,
      verdict: memoryOk ? 'pass' : 'miss',
      ...(memoryOk
        ? {}
        : { missBy: `${mib(sidecar.anonRssBytes - bareFigures.anonRssBytes - ANON_RSS_MARGIN_BYTES)} over` }),
    },
  ];
  return {
    id: '9c',
    title: 'idle container',
    rows,
    raw: { options, image, seconds, foreignLoad: foreign.result, bare: bareFigures, sidecar },
  };
}

/** Run alone: `node --import tsx bench/idle-container.ts [--seconds=N] [--settle=N]`. */
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const flag = (flagName: string, fallback: number): number => {
    const arg = process.argv.find((a) => a.startsWith(`--${flagName}=`));
    return arg === undefined ? fallback : Number(arg.slice(flagName.length + 3));
  };
  const { FakeSwf } = await import('../test/support/fake-swf.js');
  const { textTable } = await import('./report.js');
  const fake = await FakeSwf.start();
  try {
    const result = await measureIdleContainer(fake, {
      seconds: flag('seconds', IDLE_CONTAINER_DEFAULTS.seconds),
      settleSeconds: flag('settle', IDLE_CONTAINER_DEFAULTS.settleSeconds),
    });
    process.stdout.write(`${textTable(result.rows)}\n${JSON.stringify(result.raw, null, 2)}\n`);
  } finally {
    await fake.close();
  }
}
