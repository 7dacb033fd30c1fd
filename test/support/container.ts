import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SidecarLauncher } from './sidecar-process.js';

/**
 * The sidecar's container image, built from the repository's Dockerfile with buildah, and podman
 * to run it, as they work on these machines (no Docker engine, no registry; see
 * ../shared/CONTAINERS.md): vfs storage, runc with cgroupfs, and a containers.conf without
 * default ulimits. scripts/container/build-image.sh makes the missing base images, builds, and
 * caches the image by the hash of its build context.
 */

const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** The user the image runs as (Dockerfile `USER`). */
export const IMAGE_UID = 65532;
/** The journal directory inside the image (Dockerfile `VOLUME`). */
export const IMAGE_JOURNAL_DIR = '/var/lib/swf-sidecar';

/** podman and buildah with the flags that work here (the wrappers are where they live). */
export const PODMAN = join(REPO, 'scripts/container/podman');
export const BUILDAH = join(REPO, 'scripts/container/buildah');

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(file: string, args: readonly string[], timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') {
        reject(new Error(`${file} ${args.join(' ')}: ${error.message}\n${stderr}`));
        return;
      }
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
    });
  });
}

/** Runs `podman ARGS` to completion (bounded by `timeoutMs`) and returns its exit code and output. */
export function podman(args: readonly string[], timeoutMs = 120_000): Promise<CommandResult> {
  return run(PODMAN, args, timeoutMs);
}

/** Runs `buildah ARGS` (the same storage as podman) to completion. */
export function buildah(args: readonly string[], timeoutMs = 120_000): Promise<CommandResult> {
  return run(BUILDAH, args, timeoutMs);
}

let image: Promise<string> | undefined;

/**
 * The image built from this tree's Dockerfile (once per process; cached between runs), as
 * `localhost/swf-sidecar:ctx-HASH`. Making the bases and building take a few minutes the first time.
 */
export function sidecarImage(): Promise<string> {
  image ??= new Promise<string>((resolve, reject) => {
    const child = spawn('bash', [join(REPO, 'scripts/container/build-image.sh')], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const tag = stdout.trim().split('\n').at(-1) ?? '';
      if (code === 0 && tag.startsWith('localhost/')) resolve(tag);
      else reject(new Error(`scripts/container/build-image.sh exited ${code}:\n${stderr.slice(-4000)}`));
    });
  });
  return image;
}

export interface ContainerRunOptions {
  /** `--name`, so the test can `podman stop`, `exec` and `inspect` it. */
  readonly name: string;
  /** Host directory mounted at the journal path (owned by IMAGE_UID). */
  readonly journalHostDir?: string;
  /** More `podman run` flags, before the image. */
  readonly extraArgs?: readonly string[];
}

/**
 * `podman run` flags that run the image as Kubernetes runs the chart's sidecar: read-only root
 * filesystem with no writable /tmp (Kubernetes gives none), every capability dropped,
 * no-new-privileges, the image's own non-root user, and the host's network standing in for the
 * pod's shared one.
 */
export const LOCKED_DOWN_RUN_FLAGS = [
  '--read-only',
  '--read-only-tmpfs=false',
  '--cap-drop',
  'ALL',
  '--security-opt',
  'no-new-privileges',
  '--network',
  'host',
] as const;

/** Launches `swf-sidecar serve` as a locked-down container of `image` (see spawnSidecar). */
export function containerLauncher(image: string, options: ContainerRunOptions): SidecarLauncher {
  return (sidecarEnv) => ({
    file: PODMAN,
    args: [
      'run',
      '--name',
      options.name,
      ...LOCKED_DOWN_RUN_FLAGS,
      ...(options.journalHostDir === undefined ? [] : ['--volume', `${options.journalHostDir}:${IMAGE_JOURNAL_DIR}`]),
      ...Object.entries(sidecarEnv).flatMap(([key, value]) => ['--env', `${key}=${value}`]),
      ...(options.extraArgs ?? []),
      image,
    ],
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '' },
  });
}

/** Removes a container whatever its state (for `after` hooks). */
export async function removeContainer(name: string): Promise<void> {
  await podman(['rm', '--force', '--ignore', name], 60_000);
}
