/**
 * The Redis store's connection behaviour against a real redis-server: the least an ACL user
 * needs (the README's access string), and failing at once, never waiting, without a connection.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisFleetStore } from '../../src/rate/redis-fleet-store.js';
import { classifyFleetStoreError } from '../../src/rate/fleet-store.js';
import { parseRedisUrl } from '../../src/rate/redis-url.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

/** The README's access string for the sidecar's ACL user (ElastiCache RBAC, Redis 6+ ACLs). */
const ACCESS = '~swf-sidecar:* -@all +evalsha +eval +info +client|setname +time +hmget +hset +pexpire';
const ASK = { requested: 1, returned: 0, answers: 0, throttled: 0, intervalMs: 500 };

function storeFor(url: string): RedisFleetStore {
  const endpoint = parseRedisUrl(url);
  assert.ok(!('error' in endpoint));
  return new RedisFleetStore({ endpoint, fleetKey: 'acl', fleetRatePerSecond: 100, fleetBurst: 10, random: () => 0.5 });
}

describe('RedisFleetStore', () => {
  let redis: RedisServer;

  before(async () => {
    redis = await startRedisServer({
      args: ['--user', 'default', 'off', '--user', 'swf-sidecar', 'on', '>acl-secret', ...ACCESS.split(' ')],
    });
  });
  after(async () => {
    await redis?.stop();
  });

  it('leases as an ACL user limited to its commands and its keys', async () => {
    const store = storeFor(`redis://swf-sidecar:acl-secret@127.0.0.1:${redis.port}`);
    try {
      assert.equal((await store.lease(ASK)).granted, 1);
      assert.equal((await store.lease(ASK)).granted, 1);
    } finally {
      await store.close();
    }
  });

  it('fails with an auth error when the credentials are refused', async () => {
    const store = storeFor(`redis://swf-sidecar:wrong@127.0.0.1:${redis.port}`);
    try {
      await assert.rejects(store.lease(ASK), (error: unknown) => classifyFleetStoreError(error) === 'auth');
    } finally {
      await store.close();
    }
  });

  it('fails at once, without waiting, when nothing listens', async () => {
    // Port 1: nothing listens there and no test server is ever handed it.
    const store = storeFor('redis://127.0.0.1:1');
    try {
      await assert.rejects(store.lease(ASK), (error: unknown) => classifyFleetStoreError(error) === 'connection');
      // Reconnecting in the background: the next lease is refused too, never queued.
      await assert.rejects(store.lease(ASK), (error: unknown) => classifyFleetStoreError(error) === 'connection');
    } finally {
      await store.close();
    }
  });

  it('refuses leases once closed', async () => {
    const store = storeFor(`redis://swf-sidecar:acl-secret@127.0.0.1:${redis.port}`);
    await store.close();
    await assert.rejects(store.lease(ASK), /closed/);
  });
});
