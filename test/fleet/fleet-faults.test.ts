/**
 * Redis failing under a fleet of sidecar processes: killed mid-run, restarted empty, paused with
 * SIGSTOP, refusing connections, refusing the credentials; and the deployments that must work:
 * TLS with AUTH (rediss://, as ElastiCache or Valkey with in-transit encryption) and Redis
 * Cluster. Nothing that happens to Redis may lose, refuse or block a report. Needs `npm run build`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeSwf } from '../support/fake-swf.js';
import { connectClient } from '../support/grpc-client.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { spawnSidecar, type SidecarProcess } from '../support/sidecar-process.js';
import { acceptedMoreThanOnce, logLines, metricsText, sumOf, until } from '../robustness/robustness-support.js';
import {
  figures,
  fleetSum,
  sendQueued,
  startFleet,
  untilAllAccepted,
  untilAllJoined,
  type Fleet,
} from './fleet-support.js';

const SIDECARS = 4;
const ACCOUNT = { bucketSize: 300, refillPerSecond: 200 };
const FLEET_RATE = 200;
const FLEET_BURST = 100;
const LOCAL = { SWF_SIDECAR_RATE_PER_SECOND: '100', SWF_SIDECAR_BURST: '50' };
const RETRIES = { SWF_SIDECAR_RETRY_BASE_DELAY_MS: '50', SWF_SIDECAR_RETRY_MAX_DELAY_MS: '1000' };
/** Generous: the limiter falls back within its lease timeout (500 ms) of its next lease (≤ 1.5 s). */
const FALLBACK_BOUND_MS = 10_000;
/** ioredis reconnects with backoff up to 5 s, and the limiter retries with backoff up to 5 s. */
const REJOIN_BOUND_MS = 30_000;

const CANNOT_REACH = /cannot reach Redis/;
const REFUSED_CREDENTIALS = /refused the credentials/;

async function readyz(sidecar: SidecarProcess): Promise<number> {
  return (await fetch(`http://${sidecar.metricsAddress}/readyz`)).status;
}

/** Every sidecar is ready and answers a CONFIRMED report with DELIVERED. */
async function assertAcceptingAndDelivering(fleet: Fleet, prefix: string): Promise<void> {
  for (const [i, sidecar] of fleet.sidecars.entries()) {
    assert.equal(await readyz(sidecar), 200, `sidecar ${i} ready`);
    const answer = await fleet.clients[i]!.fail({ taskToken: `${prefix}-${i}`, delivery: 'DELIVERY_CONFIRMED' });
    assert.equal(answer.outcome, 'OUTCOME_DELIVERED', `sidecar ${i} delivers`);
  }
}

describe('fleet limiter when Redis fails', () => {
  let fake: FakeSwf;
  let redis: RedisServer;
  let fleet: Fleet;

  before(async () => {
    fake = await FakeSwf.start();
    redis = await startRedisServer();
    fleet = await startFleet(SIDECARS, {
      AWS_ENDPOINT_URL_SWF: fake.url,
      ...LOCAL,
      ...RETRIES,
      SWF_SIDECAR_REDIS_URL: redis.url,
      SWF_SIDECAR_FLEET_RATE_PER_SECOND: String(FLEET_RATE),
      SWF_SIDECAR_FLEET_BURST: String(FLEET_BURST),
    });
  });
  after(async () => {
    await fleet?.stop();
    await fake?.close();
    await redis?.stop();
  });

  it(
    'killed mid-run: falls back, logs it once, delivers every report; restarted empty: rejoins and the budget holds',
    { timeout: 110_000 },
    async (t) => {
      await untilAllJoined(fleet);
      fake.configure(ACCOUNT);
      fake.reset();
      const sending = sendQueued(fleet, 'killed', 150);
      await until(() => fake.accepted().length >= 150, {
        timeoutMs: 30_000,
        describe: () => `${fake.accepted().length} accepted`,
      });
      await redis.kill();
      const tokens = await sending;
      await until(async () => (await fleetSum(fleet, 'swf_sidecar_fleet_limiter_up')) === 0, {
        timeoutMs: FALLBACK_BOUND_MS,
        intervalMs: 100,
        describe: () => 'a sidecar still reports the fleet limiter up',
      });
      await untilAllAccepted(fake, tokens, 60_000);
      assert.deepEqual(acceptedMoreThanOnce(fake), []);
      await assertAcceptingAndDelivering(fleet, 'after-kill');
      for (const sidecar of fleet.sidecars) {
        assert.equal(logLines(sidecar, CANNOT_REACH).length, 1, 'the outage is logged once');
        assert.equal(sidecar.child.exitCode, null);
      }
      t.diagnostic(`killed: ${JSON.stringify(figures(fake.calls, ACCOUNT.bucketSize))}`);

      await redis.restart();
      await until(async () => (await fleetSum(fleet, 'swf_sidecar_fleet_limiter_up')) === SIDECARS, {
        timeoutMs: REJOIN_BOUND_MS,
        intervalMs: 200,
        describe: () => 'not every sidecar rejoined',
      });
      for (const sidecar of fleet.sidecars) assert.equal(logLines(sidecar, /Redis is back/).length, 1);
      const noState = fleet.sidecars.flatMap((sidecar) => logLines(sidecar, /Redis had no state/));
      assert.equal(noState.length, 1, 'the first lease after the restart found no state, and said so');

      // The shared budget holds again: no throttles.
      fake.configure(ACCOUNT);
      fake.reset();
      const again = await sendQueued(fleet, 'restarted', 300);
      await untilAllAccepted(fake, again, 60_000);
      const run = figures(fake.calls, FLEET_BURST);
      t.diagnostic(`after the restart: ${JSON.stringify(run)}`);
      assert.ok(run.throttledShare <= 0.02, `${(run.throttledShare * 100).toFixed(1)}% throttled`);
      // Sharing again: on their local limits (4 × 100/s) the sidecars would overrun the account's
      // 200/s and about half the calls would be throttled. (The steady rate itself is the fleet
      // test's to check.)
      assert.ok(
        run.maxCallsPerSecond <= Math.ceil((FLEET_BURST + FLEET_RATE) * 1.25),
        `${run.maxCallsPerSecond} calls in one second`,
      );
      assert.deepEqual(acceptedMoreThanOnce(fake), []);
    },
  );

  it(
    'paused (SIGSTOP): intake never stalls, the sidecars fall back within the bound, and rejoin on SIGCONT',
    { timeout: 90_000 },
    async () => {
      fake.configure(ACCOUNT);
      fake.reset();
      const tokens = await sendQueued(fleet, 'paused', 150);
      await until(() => fake.accepted().length >= 150, {
        timeoutMs: 30_000,
        describe: () => `${fake.accepted().length} accepted`,
      });
      redis.pause();
      try {
        // Intake answers while Redis answers nothing.
        const more = await sendQueued(fleet, 'while-paused', 20);
        tokens.push(...more);
        await until(async () => (await fleetSum(fleet, 'swf_sidecar_fleet_limiter_up')) === 0, {
          timeoutMs: FALLBACK_BOUND_MS,
          intervalMs: 100,
          describe: () => 'a sidecar still reports the fleet limiter up',
        });
        // Reports keep going out on the local limits while Redis is stopped.
        const acceptedNow = fake.accepted().length;
        await until(() => fake.accepted().length > acceptedNow, {
          timeoutMs: 10_000,
          describe: () => 'no delivery while paused',
        });
        assert.ok((await fleetSum(fleet, 'swf_sidecar_fleet_redis_errors_total', { kind: 'timeout' })) >= SIDECARS);
      } finally {
        redis.resume();
      }
      await untilAllAccepted(fake, tokens, 60_000);
      assert.deepEqual(acceptedMoreThanOnce(fake), []);
      await until(async () => (await fleetSum(fleet, 'swf_sidecar_fleet_limiter_up')) === SIDECARS, {
        timeoutMs: REJOIN_BOUND_MS,
        intervalMs: 200,
        describe: () => 'not every sidecar rejoined after SIGCONT',
      });
    },
  );
});

describe('fleet limiter with a Redis it cannot use', () => {
  let fake: FakeSwf;

  before(async () => {
    fake = await FakeSwf.start();
  });
  after(async () => {
    await fake?.close();
  });

  async function oneSidecar(redisUrl: string, extraEnv: Record<string, string> = {}): Promise<SidecarProcess> {
    return spawnSidecar({
      AWS_ENDPOINT_URL_SWF: fake.url,
      SWF_SIDECAR_REDIS_URL: redisUrl,
      SWF_SIDECAR_SHUTDOWN_GRACE_MS: '1000',
      ...extraEnv,
    });
  }

  async function assertFallsBackAndDelivers(sidecar: SidecarProcess, token: string): Promise<void> {
    assert.equal(await readyz(sidecar), 200);
    assert.equal(sumOf(await metricsText(sidecar), 'swf_sidecar_fleet_limiter_up'), 0);
    const client = connectClient(sidecar.grpcAddress);
    try {
      const answer = await client.fail({ taskToken: token, delivery: 'DELIVERY_CONFIRMED' });
      assert.equal(answer.outcome, 'OUTCOME_DELIVERED');
    } finally {
      client.close();
    }
    assert.equal(sidecar.child.exitCode, null, 'still running');
  }

  it('refused connections: a clear log line, the local limit, no crash', { timeout: 30_000 }, async () => {
    // Port 1: nothing listens there and no test server is ever handed it.
    const sidecar = await oneSidecar('redis://127.0.0.1:1');
    try {
      await assertFallsBackAndDelivers(sidecar, 'refused');
      const [line, ...more] = logLines(sidecar, CANNOT_REACH);
      assert.ok(line, 'the fallback is logged');
      assert.equal(more.length, 0);
      assert.equal(line['error_kind'], 'connection');
      assert.match(String(line['error']), /ECONNREFUSED|not connected|closed/);
      assert.equal(line['redis'], 'redis://127.0.0.1:1');
    } finally {
      await sidecar.stop();
    }
  });

  it('bad credentials: says so, never logs the password, keeps delivering', { timeout: 30_000 }, async () => {
    const redis = await startRedisServer({ password: 'the-right-one' });
    const port = redis.port;
    const sidecar = await oneSidecar(`redis://default:wrong-secret-42@127.0.0.1:${port}`);
    try {
      await assertFallsBackAndDelivers(sidecar, 'bad-credentials');
      const [line] = logLines(sidecar, REFUSED_CREDENTIALS);
      assert.ok(line, `the refusal is logged: ${JSON.stringify(sidecar.logs.filter((l) => l['level'] !== 30))}`);
      assert.equal(line['error_kind'], 'auth');
      assert.equal(line['redis'], `redis://default:***@127.0.0.1:${port}`);
      const everything = JSON.stringify(sidecar.logs) + sidecar.stderr.join('\n');
      assert.ok(!everything.includes('wrong-secret-42'), 'the password appears in the output');
    } finally {
      await sidecar.stop();
      await redis.stop();
    }
  });
});

describe('fleet limiter on TLS with AUTH, and on Redis Cluster', () => {
  let fake: FakeSwf;
  let certDir: string;

  before(async () => {
    fake = await FakeSwf.start();
    certDir = mkdtempSync(join(tmpdir(), 'swf-sidecar-redis-tls-'));
    const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: certDir, stdio: 'ignore' });
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '1',
      '-subj',
      '/CN=swf-sidecar test CA',
    );
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'redis.key',
      '-out',
      'redis.csr',
      '-subj',
      '/CN=localhost',
    );
    writeFileSync(join(certDir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    openssl(
      'x509',
      '-req',
      '-in',
      'redis.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'redis.crt',
      '-days',
      '1',
      '-extfile',
      'san.ext',
    );
  });
  after(async () => {
    await fake?.close();
    rmSync(certDir, { recursive: true, force: true });
  });

  async function assertJoinsAndDelivers(
    redisUrl: string,
    extraEnv: Record<string, string>,
    token: string,
  ): Promise<void> {
    const sidecar = await spawnSidecar({
      AWS_ENDPOINT_URL_SWF: fake.url,
      SWF_SIDECAR_REDIS_URL: redisUrl,
      SWF_SIDECAR_SHUTDOWN_GRACE_MS: '1000',
      ...extraEnv,
    });
    const client = connectClient(sidecar.grpcAddress);
    try {
      await until(async () => sumOf(await metricsText(sidecar), 'swf_sidecar_fleet_limiter_up') === 1, {
        timeoutMs: 15_000,
        intervalMs: 100,
        describe: () => `not joined: ${JSON.stringify(sidecar.logs.slice(-3))}`,
      });
      assert.equal(logLines(sidecar, /joined the fleet/).length, 1);
      const answer = await client.fail({ taskToken: token, delivery: 'DELIVERY_CONFIRMED' });
      assert.equal(answer.outcome, 'OUTCOME_DELIVERED');
      assert.ok(sumOf(await metricsText(sidecar), 'swf_sidecar_fleet_permits_total', { kind: 'leased' }) >= 1);
      assert.equal(sumOf(await metricsText(sidecar), 'swf_sidecar_fleet_limiter_up'), 1);
    } finally {
      client.close();
      await sidecar.stop();
    }
  }

  it('rediss:// with a password, the CA from NODE_EXTRA_CA_CERTS', { timeout: 30_000 }, async () => {
    const redis = await startRedisServer({
      password: 'tls-secret',
      tls: {
        certFile: join(certDir, 'redis.crt'),
        keyFile: join(certDir, 'redis.key'),
        caFile: join(certDir, 'ca.crt'),
      },
    });
    try {
      assert.match(redis.url, /^rediss:\/\//);
      await assertJoinsAndDelivers(redis.url, { NODE_EXTRA_CA_CERTS: join(certDir, 'ca.crt') }, 'over-tls');
    } finally {
      await redis.stop();
    }
  });

  it('a Redis Cluster (the key in one hash slot)', { timeout: 30_000 }, async () => {
    const redis = await startRedisServer({ cluster: true });
    try {
      await assertJoinsAndDelivers(redis.url, { SWF_SIDECAR_FLEET_KEY: 'cluster-fleet' }, 'on-cluster');
      const keys = execFileSync('redis-cli', ['-p', String(redis.port), '-c', 'KEYS', '*'], { encoding: 'utf8' });
      assert.match(keys, /swf-sidecar:\{cluster-fleet\}/);
    } finally {
      await redis.stop();
    }
  });
});
