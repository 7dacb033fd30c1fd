/**
 * The Redis client is loaded only in fleet mode: a sidecar without SWF_SIDECAR_REDIS_URL never
 * loads ioredis (idle memory), one with it does. Needs `npm run build`.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { FakeSwf } from '../support/fake-swf.js';
import { spawnSidecar } from '../support/sidecar-process.js';

const PRELOAD = fileURLToPath(new URL('./report-loaded-modules.cjs', import.meta.url));

async function ioredisLoaded(env: Record<string, string>): Promise<boolean> {
  const fake = await FakeSwf.start();
  try {
    const sidecar = await spawnSidecar({
      AWS_ENDPOINT_URL_SWF: fake.url,
      SWF_SIDECAR_SHUTDOWN_GRACE_MS: '0',
      NODE_OPTIONS: `--require ${PRELOAD}`,
      ...env,
    });
    const ended = await sidecar.stop();
    const line = sidecar.stderr.find((l) => l.startsWith('ioredis-loaded='));
    assert.ok(line, `no report on stderr (exit ${JSON.stringify(ended)}): ${sidecar.stderr.join('\n')}`);
    return line === 'ioredis-loaded=true';
  } finally {
    await fake.close();
  }
}

describe('the Redis client', () => {
  it('is never loaded without SWF_SIDECAR_REDIS_URL', { timeout: 30_000 }, async () => {
    assert.equal(await ioredisLoaded({}), false);
  });

  it('is loaded in fleet mode (the check above can tell)', { timeout: 30_000 }, async () => {
    assert.equal(await ioredisLoaded({ SWF_SIDECAR_REDIS_URL: 'redis://127.0.0.1:1' }), true);
  });
});
