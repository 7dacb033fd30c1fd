import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { imageEntrypoint } from '../../test/support/image-entrypoint.js';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SIDECAR_BIN } from '../../test/support/sidecar-process.js';
import { waitForServing } from './health.js';
import { freePort } from '../../test/support/free-port.js';

export const BARE_SERVER_JS = fileURLToPath(new URL('./bare-server.mjs', import.meta.url));
const BARE_FORWARDER_JS = fileURLToPath(new URL('./bare-forwarder.mjs', import.meta.url));
const BARE_HTTP2_RESPONDER_JS = fileURLToPath(new URL('./bare-http2-responder.mjs', import.meta.url));

/**
 * The node flags of the container image's ENTRYPOINT, so every sidecar the bench starts runs as
 * the image runs it.
 */
export function imageNodeFlags(): string[] {
  return imageEntrypoint()
    .slice(1)
    .filter((arg) => arg.startsWith('--'));
}

/** A server under test, in its own process, SERVING on 127.0.0.1. */
export interface ServerProcess {
  readonly kind: 'sidecar' | 'bare' | 'http2';
  readonly pid: number;
  /** HOST:PORT of the gRPC server. */
  readonly address: string;
  /** HOST:PORT of /metrics (sidecar only). */
  readonly metricsAddress: string | undefined;
  /** ms from `spawn()` to the first SERVING health answer. */
  readonly startupMs: number;
  readonly output: string[];
  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves at exit. */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * Settings of every sidecar the bench starts: warn-level logs (nothing per call), no shutdown
 * grace (what is still queued at the end of a measurement is dropped, not delivered for 20 s),
 * and the fake SWF as endpoint. Measurements add their own limiter and queue settings.
 */
export function sidecarEnv(fakeSwfUrl: string, overrides: Record<string, string>): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_SWF: fakeSwfUrl,
    SWF_SIDECAR_LOG_LEVEL: 'warn',
    SWF_SIDECAR_SHUTDOWN_GRACE_MS: '0',
    ...overrides,
  };
}

/** Where `--cpu-prof` profiles go when BENCH_CPU_PROF=1 (see bench/README.md). */
export const CPU_PROFILE_DIR = fileURLToPath(new URL('../../.tmp/bench-profiles/', import.meta.url));

/**
 * The sidecar binary under test: the built one of this checkout, or BENCH_SIDECAR_BIN (another
 * build, e.g. a variant to compare; it must resolve this checkout's node_modules).
 */
const sidecarBin = (): string => process.env['BENCH_SIDECAR_BIN'] ?? SIDECAR_BIN;

/**
 * `node`: the Node.js binary to run it with (default: the one running the bench), so the same
 * measurement can be taken on the machine's Node and on the container image's.
 */
export async function startSidecar(
  env: Record<string, string>,
  label = 'sidecar',
  node: string = process.execPath,
): Promise<ServerProcess> {
  const grpcPort = await freePort();
  const metricsPort = await freePort();
  // The image's flags, then BENCH_SIDECAR_NODE_ARGS: extra node/V8 flags, to try a setting out
  // (a later flag wins, e.g. --max-semi-space-size=32 undoes the image's).
  const nodeArgs: string[] = [
    ...imageNodeFlags(),
    ...(process.env['BENCH_SIDECAR_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== ''),
  ];
  if (process.env['BENCH_CPU_PROF'] === '1') {
    mkdirSync(CPU_PROFILE_DIR, { recursive: true });
    nodeArgs.push(
      '--cpu-prof',
      `--cpu-prof-dir=${CPU_PROFILE_DIR}`,
      `--cpu-prof-name=${label}-${Date.now()}.cpuprofile`,
    );
  }
  return startProcess(
    'sidecar',
    [...nodeArgs, sidecarBin(), 'serve'],
    `127.0.0.1:${grpcPort}`,
    `127.0.0.1:${metricsPort}`,
    node,
    {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      SWF_SIDECAR_ADDRESS: `127.0.0.1:${grpcPort}`,
      SWF_SIDECAR_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
      ...env,
    },
  );
}

/**
 * The bare grpc-js server of the same contract (bench/support/bare-server.mjs); with
 * `forwardUrl` it is the relay of measurement 2, forwarding each FailActivityTask there before
 * it answers.
 */
export async function startBareServer(node: string = process.execPath, forwardUrl?: string): Promise<ServerProcess> {
  const port = await freePort();
  // BENCH_BARE_NODE_ARGS: extra node/V8 flags for the bare server (e.g. --trace-gc to compare).
  const nodeArgs = (process.env['BENCH_BARE_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  return startProcess('bare', [...nodeArgs, BARE_SERVER_JS], `127.0.0.1:${port}`, undefined, node, {
    BENCH_ADDRESS: `127.0.0.1:${port}`,
    ...(forwardUrl === undefined ? {} : { BENCH_FORWARD_URL: forwardUrl }),
  });
}

/**
 * The ungraded floor of 3c (bare-http2-responder.mjs): node:http2 answering every call with a
 * constant QUEUED frame, no grpc-js.
 */
export async function startBareHttp2Responder(node: string = process.execPath): Promise<ServerProcess> {
  const port = await freePort();
  return startProcess('http2', [BARE_HTTP2_RESPONDER_JS], `127.0.0.1:${port}`, undefined, node, {
    BENCH_ADDRESS: `127.0.0.1:${port}`,
  });
}

async function startProcess(
  kind: ServerProcess['kind'],
  args: string[],
  address: string,
  metricsAddress: string | undefined,
  node: string,
  env: Record<string, string>,
): Promise<ServerProcess> {
  const spawnedAtMs = performance.now();
  const child: ChildProcess = spawn(node, args, {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => output.push(line));
  createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
  const exited = once(child, 'exit');
  let servingAtMs: number;
  try {
    servingAtMs = await Promise.race([
      waitForServing(address, 15_000),
      exited.then(([code, signal]) => {
        throw new Error(`${kind} exited (${String(code ?? signal)}) before SERVING:\n${output.join('\n')}`);
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${kind} has no pid`);
  return {
    kind,
    pid,
    address,
    metricsAddress,
    startupMs: servingAtMs - spawnedAtMs,
    output,
    async stop(timeoutMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * The forwarding floor of 3c (bare-forwarder.mjs): plain Node HTTP POSTs to `targetUrl` at
 * `ratePerSecond`, in its own process; resolves once it sends.
 */
export async function startBareForwarder(
  targetUrl: string,
  ratePerSecond: number,
  node: string = process.execPath,
): Promise<{ readonly pid: number; stop(): Promise<void> }> {
  const child = spawn(node, [BARE_FORWARDER_JS], {
    env: { PATH: process.env['PATH'] ?? '', BENCH_TARGET_URL: targetUrl, BENCH_RATE_PER_SECOND: String(ratePerSecond) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', () => resolve());
    void exited.then(() => reject(new Error('bare-forwarder exited before sending')));
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('bare-forwarder has no pid');
  return {
    pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
