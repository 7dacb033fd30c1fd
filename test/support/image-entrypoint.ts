import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DOCKERFILE = fileURLToPath(new URL('../../Dockerfile', import.meta.url));

/**
 * The container image's ENTRYPOINT (`["node", FLAGS..., "/app/bin/swf-sidecar.js"]`), read from
 * the Dockerfile, for whatever must run the sidecar as the image does (the bench, the chart's
 * extraNodeFlags command).
 */
export function imageEntrypoint(dockerfile = readFileSync(DOCKERFILE, 'utf8')): string[] {
  const line = dockerfile.split('\n').find((l) => l.startsWith('ENTRYPOINT '));
  if (line === undefined) throw new Error('the Dockerfile has no ENTRYPOINT');
  const entrypoint = JSON.parse(line.slice('ENTRYPOINT '.length)) as unknown;
  if (!Array.isArray(entrypoint) || entrypoint[0] !== 'node' || !entrypoint.every((a) => typeof a === 'string')) {
    throw new Error(`unexpected ENTRYPOINT: ${line}`);
  }
  return entrypoint;
}
