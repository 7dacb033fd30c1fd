/**
 * The FleetStore on Redis, through ioredis. Loaded only when SWF_SIDECAR_REDIS_URL is set (app.ts
 * imports this module dynamically), so a sidecar outside a fleet never loads a Redis client.
 *
 * - One command per lease: the script in fleet-lease-script.ts, by EVALSHA (ioredis falls back to
 *   EVAL when Redis lost its script cache, as after a restart).
 * - Nothing waits for a connection: with no connection a lease fails at once (no offline queue,
 *   no retry of a command), and the limiter falls back to its local limit. ioredis reconnects in
 *   the background with jittered exponential backoff (up to 5 s).
 * - TLS for `rediss://` (ElastiCache or Valkey with in-transit encryption; the CA comes from the
 *   system store or NODE_EXTRA_CA_CERTS), AUTH with the URL's user and password.
 * - Redis Cluster: found out on the first connection (`INFO cluster`); the store then switches to
 *   ioredis's cluster client, which follows MOVED answers. The key has a hash tag, so every lease
 *   goes to the one node that owns its slot.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RandomSource } from '../clock.js';
import { fleetRedisKey, fleetStateTtlMs, FLEET_LEASE_LUA, parseLeaseReply } from './fleet-lease-script.js';
import type { FleetStore, LeaseReply, LeaseRequest } from './fleet-store.js';
import type { RedisEndpoint } from './redis-url.js';

export interface RedisFleetStoreOptions {
  readonly endpoint: RedisEndpoint;
  /** SWF_SIDECAR_FLEET_KEY (the store adds its prefix and hash tag). */
  readonly fleetKey: string;
  readonly fleetRatePerSecond: number;
  readonly fleetBurst: number;
  /** TCP (and TLS) connect timeout. Default 2000 ms. */
  readonly connectTimeoutMs?: number;
  /**
   * ioredis's own bound on one command. Longer than the limiter's lease timeout on purpose: a
   * lease that answers late is still read, so its permits can be given back.
   */
  readonly commandTimeoutMs?: number;
  readonly random: RandomSource;
  /** Errors of the connection itself (refused, reset, bad credentials), as ioredis reports them. */
  readonly onConnectionError?: (error: Error) => void;
}

const LEASE_COMMAND = 'swfSidecarFleetLease';

type LeaseClient = (Redis | Cluster) & {
  [LEASE_COMMAND]: (key: string, ...args: (string | number)[]) => Promise<unknown>;
};

export class RedisFleetStore implements FleetStore {
  private client: LeaseClient;
  private mode: 'unknown' | 'standalone' | 'cluster' = 'unknown';
  private detecting: Promise<void> | undefined;
  private closed = false;
  private readonly key: string;
  private readonly args: readonly number[];

  constructor(private readonly options: RedisFleetStoreOptions) {
    this.key = fleetRedisKey(options.fleetKey);
    this.args = [
      options.fleetRatePerSecond,
      options.fleetBurst,
      fleetStateTtlMs(options.fleetRatePerSecond, options.fleetBurst),
    ];
    this.client = this.standaloneClient();
  }

  async lease(request: LeaseRequest): Promise<LeaseReply> {
    if (this.closed) throw new Error('fleet store closed');
    await this.whenConnected();
    if (this.mode === 'unknown') {
      this.detecting ??= this.detectCluster().finally(() => (this.detecting = undefined));
      await this.detecting;
      await this.whenConnected();
    }
    const raw = await this.client[LEASE_COMMAND](
      this.key,
      request.requested,
      request.returned,
      request.answers,
      request.throttled,
      Math.round(request.intervalMs),
      ...this.args,
    );
    return parseLeaseReply(raw);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // disconnect, not quit: quit waits for an answer that a paused Redis never sends.
    this.client.disconnect();
  }

  /**
   * Resolves when the client is ready. While the first connection (or a cluster's first slot
   * map) is still being made it waits for it; a client that is reconnecting after a loss fails
   * at once, so a lease never waits for Redis to come back.
   */
  private whenConnected(): Promise<void> {
    const client = this.client;
    if (client.status === 'ready') return Promise.resolve();
    if (client.status !== 'connecting' && client.status !== 'connect' && client.status !== 'wait') {
      return Promise.reject(new Error(`not connected to Redis (${client.status})`));
    }
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        client.off('ready', onReady);
        client.off('error', onError);
        client.off('close', onClose);
      };
      const onReady = (): void => {
        cleanup();
        resolve();
      };
      const onError = (error: Error): void => {
        cleanup();
        reject(error);
      };
      const onClose = (): void => {
        cleanup();
        reject(new Error('Connection is closed'));
      };
      client.on('ready', onReady);
      client.on('error', onError);
      client.on('close', onClose);
    });
  }

  private async detectCluster(): Promise<void> {
    if (this.mode !== 'unknown' || !(this.client instanceof Redis)) return;
    const info = await this.client.info('cluster');
    if (!/^cluster_enabled:1\s*$/m.test(info)) {
      this.mode = 'standalone';
      return;
    }
    const standalone = this.client;
    this.client = this.clusterClient();
    this.mode = 'cluster';
    standalone.disconnect();
  }

  private redisOptions(): RedisOptions {
    const { endpoint } = this.options;
    return {
      username: endpoint.username,
      password: endpoint.password,
      db: endpoint.db,
      ...(endpoint.tls ? { tls: { servername: endpoint.host } } : {}),
      connectionName: 'swf-sidecar',
      connectTimeout: this.options.connectTimeoutMs ?? 2_000,
      commandTimeout: this.options.commandTimeoutMs ?? 10_000,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
    };
  }

  private reconnectDelayMs(attempt: number): number {
    const ceiling = Math.min(5_000, 100 * 2 ** Math.min(attempt, 10));
    return Math.round(ceiling / 2 + this.options.random() * (ceiling / 2));
  }

  private standaloneClient(): LeaseClient {
    const { endpoint } = this.options;
    const client = new Redis({
      ...this.redisOptions(),
      host: endpoint.host,
      port: endpoint.port,
      enableOfflineQueue: false,
      retryStrategy: (attempt) => this.reconnectDelayMs(attempt),
    });
    return this.prepare(client);
  }

  private clusterClient(): LeaseClient {
    const { endpoint } = this.options;
    // Redis Cluster has one database only: no SELECT.
    const redisOptions = { ...this.redisOptions(), db: undefined };
    const client = new Cluster([{ host: endpoint.host, port: endpoint.port }], {
      redisOptions,
      enableOfflineQueue: false,
      // The cluster's ready check is itself a command, which a client without an offline queue
      // refuses before it is ready: it would never become ready. The slot map is check enough.
      enableReadyCheck: false,
      clusterRetryStrategy: (attempt) => this.reconnectDelayMs(attempt),
      // ElastiCache's TLS certificates name the configuration endpoint, not each node's IP.
      ...(endpoint.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
    });
    return this.prepare(client);
  }

  private prepare(client: Redis | Cluster): LeaseClient {
    client.defineCommand(LEASE_COMMAND, { numberOfKeys: 1, lua: FLEET_LEASE_LUA });
    client.on('error', (error: Error) => this.options.onConnectionError?.(error));
    return client as LeaseClient;
  }
}
