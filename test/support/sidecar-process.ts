import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

/** The built entry point (npm test builds first), as a user would run it. */
export const SIDECAR_BIN =
  process.env['SIDECAR_BIN'] ?? fileURLToPath(new URL('../../bin/swf-sidecar.js', import.meta.url));

export interface SidecarProcess {
  readonly child: ChildProcess;
  /** HOST:PORT (or unix:/path) from the "swf-sidecar ready" log line. */
  readonly grpcAddress: string;
  readonly metricsAddress: string;
  /** Every JSON log line so far. */
  readonly logs: Record<string, unknown>[];
  readonly stderr: string[];
  /** Sends `signal` and waits for the exit; SIGKILL after `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** How to start `swf-sidecar serve` with the sidecar's environment: a process, or a container. */
export type SidecarLauncher = (sidecarEnv: Record<string, string>) => {
  file: string;
  args: string[];
  env: Record<string, string>;
};

/** The built sidecar as a child process of this Node.js. */
export const processLauncher: SidecarLauncher = (sidecarEnv) => ({
  file: process.execPath,
  args: [SIDECAR_BIN, 'serve'],
  env: { PATH: process.env['PATH'] ?? '', ...sidecarEnv },
});

/**
 * Spawns `swf-sidecar serve` with loopback ports chosen by the OS (port 0) and waits for its
 * ready log line, bounded by `readyTimeoutMs`. The log level is at least info (lifecycle lines
 * only; per-report lines are debug), because the ready line carries the bound addresses.
 */
export async function spawnSidecar(
  env: Record<string, string>,
  options: { readyTimeoutMs?: number; launcher?: SidecarLauncher } = {},
): Promise<SidecarProcess> {
  const launch = (options.launcher ?? processLauncher)({
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    SWF_SIDECAR_ADDRESS: '127.0.0.1:0',
    SWF_SIDECAR_METRICS_ADDRESS: '127.0.0.1:0',
    ...env,
    // The harness reads the bound ports from the info-level "swf-sidecar ready" line.
    SWF_SIDECAR_LOG_LEVEL: ['debug', 'trace'].includes(env['SWF_SIDECAR_LOG_LEVEL'] ?? '')
      ? env['SWF_SIDECAR_LOG_LEVEL']!
      : 'info',
  });
  const child = spawn(launch.file, launch.args, { env: launch.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  // 'close', not 'exit': the process can exit before its last stderr/stdout lines are read.
  const exited = once(child, 'close').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
  const ready = new Promise<{ grpc: string; metrics: string }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`sidecar not ready after ${options.readyTimeoutMs ?? 15_000} ms: ${stderr.join('\n')}`)),
      options.readyTimeoutMs ?? 15_000,
    );
    createInterface({ input: child.stdout }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        entry = { msg: line, unparsed: true };
      }
      logs.push(entry);
      if (entry['msg'] === 'swf-sidecar ready') {
        clearTimeout(timer);
        resolve({ grpc: String(entry['grpc_address']), metrics: String(entry['metrics_address']) });
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`sidecar exited (${code ?? signal}) before ready: ${stderr.join('\n')}`));
    });
  });
  let addresses: { grpc: string; metrics: string };
  try {
    addresses = await ready;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    child,
    grpcAddress: addresses.grpc,
    metricsAddress: addresses.metrics,
    logs,
    stderr,
    exited,
    async stop(signal = 'SIGTERM', timeoutMs = 30_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
