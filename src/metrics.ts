import { Counter, Gauge, type Registry } from 'prom-client';
import { HotCounter, HotHistogram } from './ops/hot-path-metrics.js';
import type { LoopDelayMonitor } from './ops/loop-delay-monitor.js';
import { registerNodeMetrics } from './ops/node-metrics.js';

/** SWF call outcomes, a closed set so the label stays bounded. */
export type SwfCallOutcome =
  'delivered' | 'throttled' | 'transient' | 'not_found' | 'permission_denied' | 'invalid_argument' | 'unknown';

/** Why a Redis call of the fleet limiter failed (src/rate/fleet-store.ts). */
export type FleetRedisErrorKind = 'timeout' | 'connection' | 'auth' | 'other';

export type RejectionReason = 'invalid_argument' | 'queue_full' | 'journal_full' | 'shutting_down' | 'invalid_batch';
export type DeliveryFinalResult =
  | 'delivered'
  | 'not_found'
  | 'permission_denied'
  | 'invalid_argument'
  | 'throttled_out'
  | 'unavailable'
  | 'unknown'
  | 'undelivered_at_shutdown';

const LATENCY_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const WAIT_BUCKETS_SECONDS = [0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300];

/**
 * Every metric the sidecar exports, on a Registry the composition root owns (never the global
 * one). No label carries anything unbounded: task tokens never appear here.
 */
export class SidecarMetrics {
  // Updated on every call or SWF request: hot-path metrics (src/ops/hot-path-metrics.ts).
  readonly grpcStarted: HotCounter<'grpc_type' | 'grpc_service' | 'grpc_method'>;
  readonly grpcHandled: HotCounter<'grpc_type' | 'grpc_service' | 'grpc_method' | 'grpc_code'>;
  readonly grpcHandlingSeconds: HotHistogram<'grpc_type' | 'grpc_service' | 'grpc_method'>;
  readonly swfRequests: HotCounter<'outcome'>;
  readonly swfRequestSeconds: HotHistogram<'outcome'>;
  readonly swfRetries: Counter<'reason'>;
  readonly swfInFlight: Gauge;
  readonly queueItems: Gauge;
  readonly queueBytes: Gauge;
  readonly batchSize: HotHistogram;
  readonly queueWaitSeconds: HotHistogram;
  readonly rateLimitWaitSeconds: Counter;
  readonly sendRate: Gauge;
  readonly rejections: Counter<'reason'>;
  readonly duplicates: Counter<'kind'>;
  readonly deliveries: HotCounter<'mode' | 'result'>;
  readonly presumedDelivered: Counter;
  readonly ready: Gauge;
  /** Read at scrape time, so the queue's gauges cost nothing on the hot path. */
  queueStats: (() => { items: number; bytes: number }) | undefined;
  /** Read at scrape time: the limiter's current send rate. */
  sendRateSource: (() => number) | undefined;
  /** Read at scrape time, so the journal's gauges cost nothing between scrapes. */
  journalStats: (() => { bytes: number; pendingRecords: number }) | undefined;
  readonly journalBytes: Gauge;
  readonly journalPendingRecords: Gauge;
  readonly journalReplayed: Counter;
  readonly journalCorruptRecords: Counter;
  readonly journalCorruptBytes: Counter;

  /**
   * `loopDelay` feeds nodejs_eventloop_lag_*_seconds; without one (tests) they read 0 and
   * nothing samples the loop.
   */
  constructor(
    readonly registry: Registry,
    private readonly loopDelay?: LoopDelayMonitor,
  ) {
    const registers = [registry];
    registerNodeMetrics(registry, loopDelay);
    this.grpcStarted = new HotCounter({
      name: 'grpc_server_started_total',
      help: 'RPCs started on the server.',
      labelNames: ['grpc_type', 'grpc_service', 'grpc_method'],
      registers,
    });
    this.grpcHandled = new HotCounter({
      name: 'grpc_server_handled_total',
      help: 'RPCs completed on the server, by status code.',
      labelNames: ['grpc_type', 'grpc_service', 'grpc_method', 'grpc_code'],
      registers,
    });
    this.grpcHandlingSeconds = new HotHistogram({
      name: 'grpc_server_handling_seconds',
      help: 'Time from receiving an RPC to sending its status, in seconds.',
      labelNames: ['grpc_type', 'grpc_service', 'grpc_method'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.swfRequests = new HotCounter({
      name: 'swf_sidecar_swf_requests_total',
      help: 'RespondActivityTaskFailed calls made to SWF, by outcome (throttled = ThrottlingException answers).',
      labelNames: ['outcome'],
      registers,
    });
    this.swfRequestSeconds = new HotHistogram({
      name: 'swf_sidecar_swf_request_duration_seconds',
      help: 'Duration of one SWF call, in seconds, by outcome.',
      labelNames: ['outcome'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.swfRetries = new Counter({
      name: 'swf_sidecar_swf_retries_total',
      help: 'SWF calls scheduled again after a retryable error, by reason (throttled, transient).',
      labelNames: ['reason'],
      registers,
    });
    this.swfInFlight = new Gauge({
      name: 'swf_sidecar_swf_in_flight_requests',
      help: 'SWF calls currently waiting for an answer.',
      registers,
    });
    const queueStats = (): { items: number; bytes: number } | undefined => this.queueStats?.();
    this.queueItems = new Gauge({
      name: 'swf_sidecar_queue_items',
      help: 'Accepted reports not yet settled (waiting, in flight, or waiting to retry).',
      registers,
      collect() {
        const stats = queueStats();
        if (stats !== undefined) this.set(stats.items);
      },
    });
    this.queueBytes = new Gauge({
      name: 'swf_sidecar_queue_bytes',
      help: 'Approximate bytes held by accepted reports not yet settled.',
      registers,
      collect() {
        const stats = queueStats();
        if (stats !== undefined) this.set(stats.bytes);
      },
    });
    this.batchSize = new HotHistogram({
      name: 'swf_sidecar_batch_size',
      help: 'Reports taken off the queue together and sent concurrently.',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
      registers,
    });
    this.queueWaitSeconds = new HotHistogram({
      name: 'swf_sidecar_queue_wait_seconds',
      help: 'Time a report waited in the queue (for a rate permit and a send slot) before each SWF call, in seconds.',
      buckets: WAIT_BUCKETS_SECONDS,
      registers,
    });
    this.rateLimitWaitSeconds = new Counter({
      name: 'swf_sidecar_rate_limit_wait_seconds_total',
      help: 'Seconds the dispatcher had reports ready and send slots free but waited for a rate permit.',
      registers,
    });
    const sendRateSource = (): number | undefined => this.sendRateSource?.();
    this.sendRate = new Gauge({
      name: 'swf_sidecar_rate_limit_per_second',
      help: 'The current SWF send rate of the limiter (lowered after throttling, recovering to the configured rate).',
      registers,
      collect() {
        const rate = sendRateSource();
        if (rate !== undefined) this.set(rate);
      },
    });
    this.rejections = new Counter({
      name: 'swf_sidecar_rejections_total',
      help: 'Reports refused before queueing, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.duplicates = new Counter({
      name: 'swf_sidecar_duplicates_total',
      help: 'Reports whose token was already queued or in flight (joined) or delivered recently (recently_delivered).',
      labelNames: ['kind'],
      registers,
    });
    this.deliveries = new HotCounter({
      name: 'swf_sidecar_deliveries_total',
      help: 'Accepted reports settled, by delivery mode and final result.',
      labelNames: ['mode', 'result'],
      registers,
    });
    this.presumedDelivered = new Counter({
      name: 'swf_sidecar_presumed_delivered_total',
      help: 'Reports counted as delivered because SWF answered UnknownResourceFault after an earlier attempt of unknown outcome (timeout, reset, 5xx, or a crash before the journal marked it).',
      registers,
    });
    this.ready = new Gauge({
      name: 'swf_sidecar_ready',
      help: '1 while the sidecar accepts reports, 0 while starting or draining.',
      registers,
    });
    const journalStats = (): { bytes: number; pendingRecords: number } | undefined => this.journalStats?.();
    this.journalBytes = new Gauge({
      name: 'swf_sidecar_journal_bytes',
      help: 'Bytes of undelivered QUEUED reports in the journal (the quantity SWF_SIDECAR_JOURNAL_MAX_BYTES bounds).',
      registers,
      collect() {
        const stats = journalStats();
        if (stats !== undefined) this.set(stats.bytes);
      },
    });
    this.journalPendingRecords = new Gauge({
      name: 'swf_sidecar_journal_pending_records',
      help: 'QUEUED reports in the journal not yet settled.',
      registers,
      collect() {
        const stats = journalStats();
        if (stats !== undefined) this.set(stats.pendingRecords);
      },
    });
    this.journalReplayed = new Counter({
      name: 'swf_sidecar_journal_replayed_total',
      help: 'Undelivered QUEUED reports read back from the journal at start-up and queued again.',
      registers,
    });
    this.journalCorruptRecords = new Counter({
      name: 'swf_sidecar_journal_corrupt_records_total',
      help: 'Torn or corrupt journal records skipped at start-up (a crash mid-write).',
      registers,
    });
    this.journalCorruptBytes = new Counter({
      name: 'swf_sidecar_journal_corrupt_bytes_total',
      help: 'Bytes of torn or corrupt journal data skipped at start-up.',
      registers,
    });
  }

  /** The sidecar has work (a call, an SWF request): the event loop is worth sampling now. */
  markBusy(): void {
    this.loopDelay?.markBusy();
  }
}

/**
 * The fleet limiter's metrics (SWF_SIDECAR_REDIS_URL set), on the sidecar's registry. Registered
 * only in fleet mode, so that `swf_sidecar_fleet_limiter_up == 0` means a fleet member on its
 * local fallback, never a sidecar that was not asked to join a fleet.
 */
export class FleetMetrics {
  readonly up: Gauge;
  readonly leases: Counter<'result'>;
  readonly permits: Counter<'kind'>;
  readonly redisErrors: Counter<'kind'>;
  readonly fallbacks: Counter;
  readonly fleetRate: Gauge;
  /** Read at scrape time. */
  permitsHeld: (() => number) | undefined;
  readonly held: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.up = new Gauge({
      name: 'swf_sidecar_fleet_limiter_up',
      help: "1 while the sidecar draws on the fleet's shared budget in Redis, 0 while it falls back to its local limit.",
      registers,
    });
    this.leases = new Counter({
      name: 'swf_sidecar_fleet_leases_total',
      help: 'Lease calls to Redis (one round trip each), by result (ok, failed).',
      labelNames: ['result'],
      registers,
    });
    this.permits = new Counter({
      name: 'swf_sidecar_fleet_permits_total',
      help: "SWF call permits leased from the fleet's bucket (leased) and given back unused (returned).",
      labelNames: ['kind'],
      registers,
    });
    this.redisErrors = new Counter({
      name: 'swf_sidecar_fleet_redis_errors_total',
      help: 'Redis errors seen by the fleet limiter, by kind (timeout, connection, auth, other).',
      labelNames: ['kind'],
      registers,
    });
    this.fallbacks = new Counter({
      name: 'swf_sidecar_fleet_fallbacks_total',
      help: 'Times the sidecar lost Redis and fell back to its local limit.',
      registers,
    });
    this.fleetRate = new Gauge({
      name: 'swf_sidecar_fleet_rate_per_second',
      help: "The fleet's shared send rate as Redis last reported it (lowered by throttling seen anywhere in the fleet).",
      registers,
    });
    const permitsHeld = (): number | undefined => this.permitsHeld?.();
    this.held = new Gauge({
      name: 'swf_sidecar_fleet_permits_held',
      help: 'Leased permits this sidecar holds and has not used yet.',
      registers,
      collect() {
        const held = permitsHeld();
        if (held !== undefined) this.set(held);
      },
    });
  }
}
