import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { PAYLOAD } from './payload.js';

const LOAD_DRIVER_JS = fileURLToPath(new URL('./load-driver.mjs', import.meta.url));

/** What the load driver is asked to do (see load-driver.mjs). */
export interface LoadSpec {
  readonly transport: 'grpc' | 'swf-sdk';
  /** HOST:PORT for grpc; ignored by swf-sdk, which reads AWS_ENDPOINT_URL_SWF. */
  readonly target: string;
  readonly delivery: number;
  readonly tokenPrefix: string;
  readonly mode: 'closed' | 'open';
  readonly concurrency?: number;
  readonly connections?: number;
  readonly ratePerSecond?: number;
  /** Load before the measured window starts. */
  readonly warmupMs: number;
  /** The measured window; Infinity with `count` means "until `count` calls are answered". */
  readonly durationMs: number;
  readonly count?: number;
  readonly drainTimeoutMs?: number;
  readonly recordLatencies?: boolean;
}

export interface LoadResult {
  readonly sent: number;
  readonly inFlightAtEnd: number;
  /** Answers by gRPC status code (0 OK; 2 for any SDK error). */
  readonly codes: Record<string, number>;
  /** Answers by Outcome enum number (1 DELIVERED, 2 QUEUED, 0 none). */
  readonly outcomes: Record<string, number>;
  readonly window: {
    readonly ok: number;
    readonly errors: number;
    readonly elapsedMs: number;
    /** The driver's own CPU over the window, to tell when it, not the server, is the limit. */
    readonly driverCpuMs: number;
    readonly latenciesMs: number[];
    readonly scheduleLagMs: number[];
  };
}

export interface WindowHooks {
  /** Called when the driver starts the measured window (sample the server's CPU here). */
  onWindowStart?(): void;
  onWindowEnd?(): void;
  /** Called with the driver's pid once it is ready, before the load starts. */
  onDriverReady?(pid: number): void;
}

/**
 * Runs one load in a fresh driver process and returns what it measured. The driver is a plain
 * `node` process (no loader) so its CPU is its own, and `env` reaches it (the SDK transport reads
 * AWS_ENDPOINT_URL_SWF and credentials from there).
 */
export async function runLoad(
  spec: LoadSpec,
  hooks: WindowHooks = {},
  env: Record<string, string> = {},
): Promise<LoadResult> {
  const child = fork(LOAD_DRIVER_JS, spec.transport === 'swf-sdk' ? ['--preload-sdk'] : [], {
    execArgv: [],
    // The SDK warns on stderr that its 2027 releases need Node 22; nothing to do with a measurement.
    env: { PATH: process.env['PATH'] ?? '', NODE_NO_WARNINGS: '1', ...env },
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  try {
    return await new Promise<LoadResult>((resolve, reject) => {
      child.on('message', (message: { type: string; edge?: string; result?: LoadResult; error?: string }) => {
        switch (message.type) {
          case 'ready':
            if (child.pid !== undefined) hooks.onDriverReady?.(child.pid);
            child.send({
              type: 'run',
              spec: {
                ...PAYLOAD,
                drainTimeoutMs: 10_000,
                recordLatencies: false,
                ...spec,
              },
            });
            break;
          case 'window':
            if (message.edge === 'start') hooks.onWindowStart?.();
            else hooks.onWindowEnd?.();
            break;
          case 'done':
            resolve(message.result as LoadResult);
            break;
          case 'failed':
            reject(new Error(`load driver failed: ${message.error ?? ''}`));
            break;
        }
      });
      void exited.then(([code, signal]) => reject(new Error(`load driver exited (${String(code ?? signal)})`)));
    });
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  }
}
