/**
 * Throttling seen by some sidecars slows the whole fleet: other clients of the account have used
 * most of the quota (the fake SWF's bucket refills at 60/s only), three of four sidecars send and
 * get throttled, and the fleet's shared rate falls on all four, the idle one included, which
 * never saw a throttle itself. When the quota is back, all four recover together. Needs
 * `npm run build`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeSwf } from '../support/fake-swf.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { acceptedMoreThanOnce, until } from '../robustness/robustness-support.js';
import { perSidecar, startFleet, untilAllAccepted, untilAllJoined, type Fleet } from './fleet-support.js';

const FLEET_RATE = 200;

describe('the fleet adapts to throttling together', () => {
  let fake: FakeSwf;
  let redis: RedisServer;
  let fleet: Fleet;

  before(async () => {
    fake = await FakeSwf.start();
    redis = await startRedisServer();
    fleet = await startFleet(4, {
      AWS_ENDPOINT_URL_SWF: fake.url,
      SWF_SIDECAR_RATE_PER_SECOND: '100',
      SWF_SIDECAR_BURST: '50',
      SWF_SIDECAR_RETRY_BASE_DELAY_MS: '50',
      SWF_SIDECAR_RETRY_MAX_DELAY_MS: '1000',
      SWF_SIDECAR_REDIS_URL: redis.url,
      SWF_SIDECAR_FLEET_RATE_PER_SECOND: String(FLEET_RATE),
      SWF_SIDECAR_FLEET_BURST: '100',
    });
  });
  after(async () => {
    await fleet?.stop();
    await fake?.close();
    await redis?.stop();
  });

  it('backs off on every sidecar, the idle one too, and recovers on every sidecar', { timeout: 90_000 }, async (t) => {
    const rates = (): Promise<number[]> => perSidecar(fleet, 'swf_sidecar_fleet_rate_per_second');
    await untilAllJoined(fleet);
    assert.deepEqual(await rates(), [FLEET_RATE, FLEET_RATE, FLEET_RATE, FLEET_RATE]);
    // Other clients left 60/s of the account's quota: 900 reports take 15 s, longer than the idle
    // sidecar's heartbeat (10 s).
    fake.configure({ bucketSize: 30, refillPerSecond: 60 });
    fake.reset();
    const tokens: string[] = [];
    await Promise.all(
      fleet.clients.slice(0, 3).map(async (client, i) => {
        const batch = Array.from({ length: 300 }, (_, k) => `throttled-${i}-${k}`);
        tokens.push(...batch);
        const response = await client.failMany({
          tasks: batch.map((taskToken) => ({ taskToken, delivery: 'DELIVERY_QUEUED' })),
        });
        assert.ok(response.results.every((r) => r.code === 0));
      }),
    );
    let seen: number[] = [];
    await until(
      async () => {
        seen = await rates();
        return seen.every((rate) => rate <= FLEET_RATE * 0.75);
      },
      { timeoutMs: 30_000, intervalMs: 200, describe: () => `fleet rates per sidecar: ${seen.join(', ')}` },
    );
    t.diagnostic(`backed off: ${seen.map((r) => r.toFixed(1)).join(', ')}/s`);
    const idleSidecarCalls = (await perSidecar(fleet, 'swf_sidecar_swf_requests_total'))[3];
    assert.equal(idleSidecarCalls, 0, 'the fourth sidecar sent nothing, so it learned the rate from Redis');
    await untilAllAccepted(fake, tokens, 60_000);
    assert.deepEqual(acceptedMoreThanOnce(fake), []);
    const throttled = fake.calls.filter((c) => c.answer === 'ThrottlingException').length;
    t.diagnostic(`${throttled} of ${fake.calls.length} SWF calls throttled while 60/s were left`);

    // The quota is back: quiet windows raise the shared rate by a tenth a second, for everyone.
    fake.configure({ bucketSize: 1000, refillPerSecond: 1000 });
    await until(
      async () => {
        seen = await rates();
        return seen.every((rate) => rate === FLEET_RATE);
      },
      { timeoutMs: 40_000, intervalMs: 500, describe: () => `fleet rates per sidecar: ${seen.join(', ')}` },
    );
  });
});
