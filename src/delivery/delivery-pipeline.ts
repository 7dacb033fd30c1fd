import type { Clock, RandomSource } from '../clock.js';
import type { SidecarConfig } from '../config.js';
import type { Journal } from '../journal/journal.js';
import type { Logger } from '../logger.js';
import type { SidecarMetrics } from '../metrics.js';
import type { RateLimiter } from '../rate/rate-limiter.js';
import type { SwfPort } from '../swf/swf-port.js';
import { InMemoryDeliveryQueue } from './delivery-queue.js';
import { DeliveryService } from './delivery-service.js';
import { Dispatcher } from './dispatcher.js';
import { RecentDeliveries } from './recent-deliveries.js';

export type PipelineConfig = Pick<
  SidecarConfig,
  | 'maxQueueItems'
  | 'maxQueueBytes'
  | 'retryMaxAttempts'
  | 'retryMaxElapsedMs'
  | 'queuedRetryMaxAttempts'
  | 'queuedRetryMaxElapsedMs'
  | 'retryBaseDelayMs'
  | 'retryMaxDelayMs'
  | 'dedupTtlMs'
  | 'dedupMaxEntries'
  | 'maxBatchSize'
  | 'maxInFlight'
>;

export interface PipelineDeps {
  readonly swf: SwfPort;
  readonly limiter: RateLimiter;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly metrics: SidecarMetrics;
  readonly logger: Logger;
  readonly journal?: Journal | undefined;
}

/** The delivery path from accepted report to SWF answer, wired from the config. */
export function createDeliveryPipeline(
  config: PipelineConfig,
  deps: PipelineDeps,
): { service: DeliveryService; dispatcher: Dispatcher } {
  const service = new DeliveryService(
    {
      maxQueueItems: config.maxQueueItems,
      maxQueueBytes: config.maxQueueBytes,
      confirmedRetryBudget: { maxAttempts: config.retryMaxAttempts, maxElapsedMs: config.retryMaxElapsedMs },
      queuedRetryBudget: { maxAttempts: config.queuedRetryMaxAttempts, maxElapsedMs: config.queuedRetryMaxElapsedMs },
    },
    {
      recent: new RecentDeliveries(config.dedupTtlMs, config.dedupMaxEntries),
      journal: deps.journal,
      limiter: deps.limiter,
      clock: deps.clock,
      metrics: deps.metrics,
      logger: deps.logger,
    },
  );
  const dispatcher = new Dispatcher(
    {
      maxBatchSize: config.maxBatchSize,
      maxInFlight: config.maxInFlight,
      backoff: { baseDelayMs: config.retryBaseDelayMs, maxDelayMs: config.retryMaxDelayMs },
    },
    {
      swf: deps.swf,
      limiter: deps.limiter,
      clock: deps.clock,
      random: deps.random,
      metrics: deps.metrics,
      logger: deps.logger,
      queue: new InMemoryDeliveryQueue(),
      onSettled: (item, result) => service.onSettled(item, result),
    },
  );
  service.attach(dispatcher);
  deps.metrics.queueStats = () => service.stats();
  return { service, dispatcher };
}
