/**
 * A real `redis-server` (Debian's package; scripts/test.sh installs it) for tests: started on a
 * free loopback port chosen at runtime, with no persistence, and stopped by the test. It can be
 * killed, paused (SIGSTOP), resumed and restarted empty on the same port, for fault tests.
 *
 *   const redis = await startRedisServer();          // redis.url: redis://127.0.0.1:PORT
 *   const secured = await startRedisServer({ password: 's3cret' });
 *   ...
 *   await redis.stop();
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from './free-port.js';

export const REDIS_SERVER_BIN = '/usr/bin/redis-server';
export const REDIS_CLI_BIN = '/usr/bin/redis-cli';

export interface RedisServerOptions {
  /** `requirepass`: clients must AUTH with it (user `default`). */
  readonly password?: string;
  /** Serve TLS only (`rediss://`), with this PEM certificate and key; clients need no certificate. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile: string };
  /**
   * Run as a one-node Redis Cluster that owns every slot (cluster-enabled, all 16384 slots
   * assigned before the helper returns).
   */
  readonly cluster?: boolean;
  /** Extra `--name value` arguments, e.g. TLS or cluster settings. */
  readonly args?: readonly string[];
  /** Port to use (restarts reuse theirs); default a free one. */
  readonly port?: number;
}

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:PORT` (`rediss://` with TLS), with `:password@` when a password is set. */
  readonly url: string;
  /** The running process (it changes on `restart()`). */
  readonly pid: number;
  /** SIGKILL, as a crash: the data is gone. */
  kill(): Promise<void>;
  /** SIGSTOP: connections stay open but nothing is answered. */
  pause(): void;
  /** SIGCONT after `pause()`. */
  resume(): void;
  /** Starts a new, empty server on the same port (after `kill()` or `stop()`). */
  restart(): Promise<void>;
  /** Stops the server (SIGKILL if it does not exit) and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts redis-server on 127.0.0.1. A port taken between choosing it and binding it (another
 * test) is retried with another port, up to 5 times.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  assert.ok(existsSync(REDIS_SERVER_BIN), `${REDIS_SERVER_BIN} is missing: apt-get install -y redis-server`);
  const dir = mkdtempSync(join(tmpdir(), 'swf-sidecar-redis-'));
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    // redis-server has no "port 0": a port found free, retried if another test takes it first.
    const port = options.port ?? (await freePort());
    try {
      const child = await launch(port, dir, options);
      return handle(child, port, dir, options);
    } catch (error) {
      lastError = error;
      if (options.port !== undefined) break;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError;
}

function handle(first: ChildProcess, port: number, dir: string, options: RedisServerOptions): RedisServer {
  let child = first;
  let stopped = false;
  const auth = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`;
  const killChild = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
  };
  return {
    port,
    url: `${options.tls === undefined ? 'redis' : 'rediss'}://${auth}127.0.0.1:${port}`,
    get pid() {
      return child.pid ?? -1;
    },
    kill: killChild,
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    async restart() {
      await killChild();
      // The old listening socket is gone once the process is reaped; retry briefly if the
      // kernel has not released the port yet.
      let lastError: unknown;
      for (let attempt = 0; attempt < 20; attempt++) {
        try {
          child = await launch(port, dir, options);
          return;
        } catch (error) {
          lastError = error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      throw lastError;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await killChild();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Spawns the server and waits (at most 10 s) for "Ready to accept connections". */
async function launch(port: number, dir: string, options: RedisServerOptions): Promise<ChildProcess> {
  const listen =
    options.tls === undefined
      ? ['--port', String(port)]
      : [
          '--port',
          '0',
          '--tls-port',
          String(port),
          '--tls-cert-file',
          options.tls.certFile,
          '--tls-key-file',
          options.tls.keyFile,
          '--tls-ca-cert-file',
          options.tls.caFile,
          '--tls-auth-clients',
          'no',
        ];
  const args = [
    ...listen,
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--loglevel',
    'notice',
    ...(options.password === undefined ? [] : ['--requirepass', options.password]),
    ...(options.cluster === true
      ? ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-announce-ip', '127.0.0.1']
      : []),
    ...(options.args ?? []),
  ];
  const child = spawn(REDIS_SERVER_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server not ready in 10 s:\n${output.join('\n')}`)), 10_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      output.push(line);
      if (line.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    createInterface({ input: child.stderr }).on('line', (line) => output.push(line));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code ?? signal}) before ready:\n${output.join('\n')}`));
    });
  });
  try {
    await ready;
    if (options.cluster === true) await assignAllSlots(port, options.password);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return child;
}

/** A one-node cluster: this node takes every slot; waits (at most 10 s) for cluster_state:ok. */
async function assignAllSlots(port: number, password: string | undefined): Promise<void> {
  const cli = (...args: string[]): string =>
    execFileSync(
      REDIS_CLI_BIN,
      ['-h', '127.0.0.1', '-p', String(port), ...(password ? ['-a', password] : []), ...args],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
  const info = cli('CLUSTER', 'INFO');
  if (!/cluster_slots_assigned:16384/.test(info)) cli('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
  const deadline = Date.now() + 10_000;
  while (!/cluster_state:ok/.test(cli('CLUSTER', 'INFO'))) {
    if (Date.now() > deadline) throw new Error('one-node Redis Cluster not ok within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
