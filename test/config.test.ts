import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, SETTINGS, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('applies documented defaults', () => {
    const config = loadConfig({});
    assert.equal(config.address, '127.0.0.1:50051');
    assert.equal(config.metricsAddress, '0.0.0.0:9464');
    assert.equal(config.defaultDelivery, 'confirmed');
    assert.equal(config.ratePerSecond, 100);
    for (const setting of SETTINGS) assert.ok(setting.env.startsWith('SWF_SIDECAR_'), setting.env);
  });

  it('reads every variable', () => {
    const config = loadConfig({
      SWF_SIDECAR_ADDRESS: 'unix:/tmp/sidecar.sock',
      SWF_SIDECAR_RATE_PER_SECOND: '12.5',
      SWF_SIDECAR_BURST: '30',
      SWF_SIDECAR_DEFAULT_DELIVERY: 'QUEUED',
      SWF_SIDECAR_LOG_LEVEL: 'debug',
    });
    assert.equal(config.address, 'unix:/tmp/sidecar.sock');
    assert.equal(config.ratePerSecond, 12.5);
    assert.equal(config.burst, 30);
    assert.equal(config.defaultDelivery, 'queued');
    assert.equal(config.logLevel, 'debug');
  });

  it('reports every bad value at once as "NAME: expected X, got Y"', () => {
    assert.throws(
      () =>
        loadConfig({
          SWF_SIDECAR_RATE_PER_SECOND: '-1',
          SWF_SIDECAR_BURST: '1.5',
          SWF_SIDECAR_ADDRESS: 'nowhere',
          SWF_SIDECAR_DEFAULT_DELIVERY: 'maybe',
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.problems.length, 4);
        assert.match(error.message, /SWF_SIDECAR_RATE_PER_SECOND: expected a number above 0, got "-1"/);
        assert.match(error.message, /SWF_SIDECAR_BURST: expected a whole number from 1 to \d+, got "1.5"/);
        assert.match(
          error.message,
          /SWF_SIDECAR_ADDRESS: expected HOST:PORT, \[IPv6\]:PORT or unix:\/path, got "nowhere"/,
        );
        assert.match(error.message, /SWF_SIDECAR_DEFAULT_DELIVERY: expected one of confirmed, queued, got "maybe"/);
        return true;
      },
    );
  });
});
