import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { SETTINGS } from '../src/config.js';
import { FleetMetrics, SidecarMetrics } from '../src/metrics.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The README is the user's reference: these keep it from drifting from the code. */
describe('README', () => {
  it('has a configuration row for every setting, with its real default', () => {
    for (const setting of SETTINGS) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${setting.env}\` |`));
      assert.ok(row, `no row for ${setting.env}`);
      const shown = row.split('|')[2]?.trim();
      const expected =
        setting.key === 'unixSocketMode'
          ? '`0600`'
          : String(setting.default) === ''
            ? '(empty)'
            : `\`${String(setting.default)}\``;
      assert.equal(shown, expected, `default of ${setting.env}`);
    }
  });

  it('lists every metric the sidecar registers', async () => {
    const metrics = new SidecarMetrics(new Registry());
    // Registered in fleet mode only (SWF_SIDECAR_REDIS_URL set).
    new FleetMetrics(metrics.registry);
    for (const { name } of await metrics.registry.getMetricsAsJSON()) {
      if (name.startsWith('process_') || name.startsWith('nodejs_')) continue;
      assert.ok(readme.includes(`| \`${name}\` |`), `metric ${name} is not in the README's table`);
    }
  });
});
