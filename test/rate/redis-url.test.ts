import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, defaultFleetKey, loadConfig } from '../../src/config.js';
import { classifyFleetStoreError } from '../../src/rate/fleet-store.js';
import { parseRedisUrl, redactRedisUrl } from '../../src/rate/redis-url.js';

describe('SWF_SIDECAR_REDIS_URL', () => {
  it('reads host, port, TLS, user, password and database', () => {
    assert.deepEqual(parseRedisUrl('rediss://app:p%40ss@cache.example.com:6380/2'), {
      host: 'cache.example.com',
      port: 6380,
      tls: true,
      username: 'app',
      password: 'p@ss',
      db: 2,
      redacted: 'rediss://app:***@cache.example.com:6380/2',
    });
    const plain = parseRedisUrl('redis://127.0.0.1');
    assert.ok(!('error' in plain));
    assert.equal(plain.port, 6379);
    assert.equal(plain.tls, false);
    assert.equal(plain.password, undefined);
    const passwordOnly = parseRedisUrl('redis://:s3cret@[::1]:7000');
    assert.ok(!('error' in passwordOnly));
    assert.equal(passwordOnly.host, '::1');
    assert.equal(passwordOnly.username, undefined);
    assert.equal(passwordOnly.password, 's3cret');
  });

  it('refuses what is not a redis:// or rediss:// URL', () => {
    for (const bad of ['http://host:6379', 'host:6379', 'redis://', 'redis://host/notadb']) {
      assert.ok('error' in parseRedisUrl(bad), bad);
    }
  });

  it('never shows the password: not in the redacted form, not in a configuration error', () => {
    assert.equal(redactRedisUrl('redis://user:hunter2@host:6379'), 'redis://user:***@host:6379');
    assert.equal(redactRedisUrl('redis://host:6379'), 'redis://host:6379');
    assert.ok(!redactRedisUrl('redis//user:hunter2@host').includes('hunter2'));
    assert.throws(
      () => loadConfig({ SWF_SIDECAR_REDIS_URL: 'redis://user:hunter2@host:6379/x' }),
      (error: unknown) =>
        error instanceof ConfigError && !error.message.includes('hunter2') && error.message.includes('***'),
    );
  });

  it('turns fleet mode on only when set, with the fleet settings validated', () => {
    assert.equal(loadConfig({}).redisUrl, '');
    const config = loadConfig({
      SWF_SIDECAR_REDIS_URL: 'redis://127.0.0.1:6379',
      SWF_SIDECAR_FLEET_RATE_PER_SECOND: '150',
      SWF_SIDECAR_FLEET_BURST: '500',
      SWF_SIDECAR_FLEET_KEY: '123456789012:eu-west-1:swf',
    });
    assert.equal(config.fleetRatePerSecond, 150);
    assert.equal(config.fleetBurst, 500);
    assert.equal(config.fleetKey, '123456789012:eu-west-1:swf');
    assert.throws(
      () => loadConfig({ SWF_SIDECAR_FLEET_RATE_PER_SECOND: '0', SWF_SIDECAR_FLEET_KEY: 'has space' }),
      /SWF_SIDECAR_FLEET_RATE_PER_SECOND[\s\S]*SWF_SIDECAR_FLEET_KEY/,
    );
  });

  it('derives the default fleet key from the region and the API', () => {
    assert.equal(defaultFleetKey('eu-west-1'), 'swf:eu-west-1:RespondActivityTaskFailed');
  });
});

describe('classifyFleetStoreError', () => {
  it('tells credentials, timeouts and connection failures apart', () => {
    assert.equal(
      classifyFleetStoreError(new Error('WRONGPASS invalid username-password pair or user is disabled.')),
      'auth',
    );
    assert.equal(classifyFleetStoreError(new Error('NOAUTH Authentication required.')), 'auth');
    assert.equal(
      classifyFleetStoreError(Object.assign(new Error('no answer from Redis within 500 ms'), { code: 'ETIMEDOUT' })),
      'timeout',
    );
    assert.equal(classifyFleetStoreError(new Error('ERR unknown command')), 'other');
    assert.equal(classifyFleetStoreError(new Error('Command timed out')), 'timeout');
    assert.equal(
      classifyFleetStoreError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })),
      'connection',
    );
    assert.equal(classifyFleetStoreError(new Error('not connected to Redis (reconnecting)')), 'connection');
  });
});
