/**
 * The file journal is loaded only when SWF_SIDECAR_JOURNAL_DIR is set: a sidecar without one
 * never loads its module (idle memory), one with it does. Needs `npm run build`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { FakeSwf } from '../support/fake-swf.js';
import { spawnSidecar } from '../support/sidecar-process.js';

const PRELOAD = fileURLToPath(new URL('./report-journal-loaded.mjs', import.meta.url));

async function journalLoaded(env: Record<string, string>): Promise<boolean> {
  const fake = await FakeSwf.start();
  try {
    const sidecar = await spawnSidecar({
      AWS_ENDPOINT_URL_SWF: fake.url,
      SWF_SIDECAR_SHUTDOWN_GRACE_MS: '0',
      NODE_OPTIONS: `--import ${PRELOAD}`,
      ...env,
    });
    await sidecar.stop();
    const line = sidecar.stderr.find((l) => l.startsWith('journal-loaded='));
    assert.ok(line, `no report on stderr: ${sidecar.stderr.join('\n')}`);
    return line === 'journal-loaded=true';
  } finally {
    await fake.close();
  }
}

describe('the file journal', () => {
  it('is never loaded without SWF_SIDECAR_JOURNAL_DIR', { timeout: 30_000 }, async () => {
    assert.equal(await journalLoaded({}), false);
  });

  it('is loaded with it (the check above can tell)', { timeout: 30_000 }, async () => {
    const directory = mkdtempSync(join(tmpdir(), 'swf-lazy-journal-'));
    try {
      assert.equal(await journalLoaded({ SWF_SIDECAR_JOURNAL_DIR: directory }), true);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
