import { Registry } from 'prom-client';
import { type Clock, type RandomSource, systemClock } from './clock.js';
import { defaultFleetKey, type SidecarConfig } from './config.js';
import { createDeliveryPipeline } from './delivery/delivery-pipeline.js';
import type { DeliveryService } from './delivery/delivery-service.js';
import type { Dispatcher } from './delivery/dispatcher.js';
import { createActivityTasksMethods } from './grpc/activity-tasks-handlers.js';
import { activityTasksDefinition, loadContract } from './grpc/contract.js';
import { type RunningGrpcServer, startGrpcServer } from './grpc/grpc-server.js';
import { loadServerCredentials } from './grpc/server-credentials.js';
import type { Journal } from './journal/journal.js';
import { createLogger, type Logger } from './logger.js';
import { FleetMetrics, SidecarMetrics } from './metrics.js';
import { LoopDelayMonitor } from './ops/loop-delay-monitor.js';
import { type RunningOpsServer, startOpsServer } from './ops/ops-http-server.js';
import { releaseMemory } from './ops/release-memory.js';
import type { FleetRateLimiter } from './rate/fleet-rate-limiter.js';
import { LocalRateLimiter } from './rate/local-rate-limiter.js';
import type { RateLimiter } from './rate/rate-limiter.js';
import { parseRedisUrl } from './rate/redis-url.js';
import { AwsSwfPort, type WarmUpReport } from './swf/aws-swf-port.js';
import type { SwfPort } from './swf/swf-port.js';

/** What tests (or another embedding) may replace; everything else is built from the config. */
export interface SidecarDeps {
  readonly swf?: SwfPort;
  readonly limiter?: RateLimiter;
  readonly clock?: Clock;
  readonly random?: RandomSource;
  readonly logger?: Logger;
}

export interface ShutdownReport {
  /** Reports that could not be delivered within the grace period (logged and counted). */
  readonly undelivered: number;
}

export interface RunningSidecar {
  /** The gRPC address clients dial (the bound port when the config said port 0). */
  readonly grpcAddress: string;
  /** HOST:PORT of /metrics, /healthz, /readyz. */
  readonly metricsAddress: string;
  readonly metrics: SidecarMetrics;
  readonly service: DeliveryService;
  readonly dispatcher: Dispatcher;
  /** Drains within the configured grace period and stops everything. Idempotent. */
  shutdown(): Promise<ShutdownReport>;
}

/** The composition root: the only place that builds and wires the sidecar's parts. */
export async function startSidecar(config: SidecarConfig, deps: SidecarDeps = {}): Promise<RunningSidecar> {
  const clock = deps.clock ?? systemClock;
  const random = deps.random ?? Math.random;
  const logger = deps.logger ?? createLogger(config.logLevel);
  // Samples the event loop only while there is work: an idle sidecar arms no timer. Once idle
  // with nothing outstanding, it gives back the heap V8 would otherwise keep (release-memory.ts).
  let outstanding = (): number => 0;
  const loopDelay = new LoopDelayMonitor(clock, {
    onIdle: () => {
      if (outstanding() === 0) releaseMemory();
    },
  });
  const metrics = new SidecarMetrics(new Registry(), loopDelay);
  const logResolution = (warm: WarmUpReport): void => {
    const warmLog = { swf_endpoint: warm.endpoint, signing_region: warm.signingRegion };
    if (warm.errors.length === 0) logger.info(warmLog, 'SWF client ready');
    else
      logger.warn(
        { ...warmLog, errors: warm.errors.map((error) => error.message) },
        'SWF client not fully resolved yet; will retry on the next send',
      );
  };
  const awsPort =
    deps.swf === undefined
      ? new AwsSwfPort({
          requestTimeoutMs: config.requestTimeoutMs,
          maxSockets: config.maxInFlight,
          onResolution: logResolution,
        })
      : undefined;
  const swf: SwfPort = deps.swf ?? awsPort!;
  // The AWS SDK is loaded, and region, endpoint and credentials resolved, by the first report
  // (logged then): a sidecar whose worker never fails a task never pays for them. Fleet mode
  // needs the region for its default key, so it resolves them before ready.
  const warm = awsPort !== undefined && config.redisUrl !== '' ? await awsPort.warmUp() : undefined;
  if (warm !== undefined) logResolution(warm);
  const local = new LocalRateLimiter({ ratePerSecond: config.ratePerSecond, burst: config.burst }, clock);
  const fleet =
    deps.limiter === undefined && config.redisUrl !== ''
      ? await startFleetLimiter(config, warm, { local, metrics, clock, random, logger })
      : undefined;
  const limiter: RateLimiter = deps.limiter ?? fleet ?? local;

  // Loaded only when configured, like the fleet limiter: a sidecar without a journal never loads it.
  const journal: Journal | undefined =
    config.journalDir === ''
      ? undefined
      : new (await import('./journal/file-journal.js')).FileJournal({
          directory: config.journalDir,
          maxBytes: config.journalMaxBytes,
          clock,
          logger,
        });
  const { service, dispatcher } = createDeliveryPipeline(config, {
    swf,
    limiter,
    clock,
    random,
    metrics,
    logger,
    journal,
  });
  if (journal !== undefined) {
    metrics.journalStats = () => journal.stats();
    await replayJournal(journal, service, metrics, logger);
  }
  metrics.sendRateSource = () => limiter.currentRatePerSecond();
  outstanding = () => service.stats().items;

  const definition = loadContract();
  const methods = createActivityTasksMethods(
    service,
    { defaultDelivery: config.defaultDelivery, maxBatchRequestItems: config.maxBatchRequestItems },
    metrics,
    activityTasksDefinition(definition),
  );
  let ready = false;
  const ops: RunningOpsServer = await startOpsServer(config.metricsAddress, metrics.registry, () => ready);
  let grpc: RunningGrpcServer;
  try {
    grpc = await startGrpcServer(
      {
        address: config.address,
        maxReceiveMessageBytes: config.maxReceiveMessageBytes,
        unixSocketMode: config.unixSocketMode,
        credentials: await loadServerCredentials({
          certFile: config.tlsCertFile,
          keyFile: config.tlsKeyFile,
          clientCaFile: config.tlsClientCaFile,
        }),
      },
      definition,
      methods,
      metrics,
      clock,
    );
  } catch (error) {
    await ops.close();
    await fleet?.close();
    throw error;
  }
  if (!grpc.fastPath) {
    logger.warn(
      'this @grpc/grpc-js version does not allow the fast path: grpc-js serves every call (about twice the CPU a call)',
    );
  }
  ready = true;
  grpc.setServing(true);
  metrics.ready.set(1);
  // Start-up counts as work: with no call in the next quiet spell, its garbage is given back.
  metrics.markBusy();
  logger.info({ grpc_address: grpc.address, metrics_address: ops.address }, 'swf-sidecar ready');

  let shutdownPromise: Promise<ShutdownReport> | undefined;
  const shutdown = async (): Promise<ShutdownReport> => {
    ready = false;
    metrics.ready.set(0);
    grpc.setServing(false);
    logger.info({ outstanding: service.stats().items, grace_ms: config.shutdownGraceMs }, 'draining');
    const drained = await service.drain(config.shutdownGraceMs);
    await journal?.close();
    // Unused permits go back to the fleet (one lease, bounded by its timeout).
    await fleet?.close();
    // Every waiting caller has its answer now; give the transport a moment to flush them.
    await grpc.stop(1_000);
    await ops.close();
    loopDelay.stop();
    awsPort?.destroy();
    logger.info({ undelivered: drained.undelivered }, 'stopped');
    return { undelivered: drained.undelivered };
  };

  return {
    grpcAddress: grpc.address,
    metricsAddress: ops.address,
    metrics,
    service,
    dispatcher,
    shutdown: () => (shutdownPromise ??= shutdown()),
  };
}

/**
 * Fleet mode (SWF_SIDECAR_REDIS_URL set): the Redis client and the fleet limiter are loaded only
 * now, so a sidecar outside a fleet never loads them. Joins the fleet before ready, bounded by
 * the lease timeout; when Redis cannot be reached the sidecar starts on its local limit.
 */
async function startFleetLimiter(
  config: SidecarConfig,
  warm: WarmUpReport | undefined,
  deps: { local: LocalRateLimiter; metrics: SidecarMetrics; clock: Clock; random: RandomSource; logger: Logger },
): Promise<FleetRateLimiter> {
  const [{ FleetRateLimiter }, { RedisFleetStore }] = await Promise.all([
    import('./rate/fleet-rate-limiter.js'),
    import('./rate/redis-fleet-store.js'),
  ]);
  const endpoint = parseRedisUrl(config.redisUrl);
  // loadConfig validated the URL; this cannot happen.
  if ('error' in endpoint) throw new Error(`SWF_SIDECAR_REDIS_URL: ${endpoint.error}`);
  const region =
    warm?.signingRegion ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? 'unknown-region';
  const fleetKey = config.fleetKey === '' ? defaultFleetKey(region) : config.fleetKey;
  const fleetMetrics = new FleetMetrics(deps.metrics.registry);
  const store = new RedisFleetStore({
    endpoint,
    fleetKey,
    fleetRatePerSecond: config.fleetRatePerSecond,
    fleetBurst: config.fleetBurst,
    random: deps.random,
    onConnectionError: (error) =>
      deps.logger.debug({ redis: endpoint.redacted, error: error.message }, 'fleet limiter: Redis connection error'),
  });
  const limiter = new FleetRateLimiter(
    {
      fleetRatePerSecond: config.fleetRatePerSecond,
      fleetBurst: config.fleetBurst,
      localRatePerSecond: config.ratePerSecond,
      localBurst: config.burst,
      describe: { redis: endpoint.redacted, fleetKey },
    },
    { store, local: deps.local, clock: deps.clock, random: deps.random, metrics: fleetMetrics, logger: deps.logger },
  );
  await limiter.start();
  return limiter;
}

/** Reads back what a previous run left undelivered and queues it, before the sidecar is ready. */
async function replayJournal(
  journal: Journal,
  service: DeliveryService,
  metrics: SidecarMetrics,
  logger: Logger,
): Promise<void> {
  const recovery = await journal.open();
  metrics.journalReplayed.inc(recovery.pending.length);
  metrics.journalCorruptRecords.inc(recovery.corruptRecordsSkipped);
  metrics.journalCorruptBytes.inc(recovery.corruptBytesSkipped);
  if (recovery.corruptRecordsSkipped > 0) {
    logger.warn(
      { records: recovery.corruptRecordsSkipped, bytes: recovery.corruptBytesSkipped },
      'journal had a torn or corrupt tail (a crash mid-write); skipped it',
    );
  }
  if (recovery.pending.length > 0) {
    logger.info({ reports: recovery.pending.length }, 'replaying undelivered QUEUED reports from the journal');
  }
  service.restore(recovery.pending);
}
