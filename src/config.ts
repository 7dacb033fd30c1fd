import { LOG_LEVELS, type LogLevel } from './logger.js';
import type { DeliveryMode } from './delivery/failure-report.js';
import { parseRedisUrl, redactRedisUrl } from './rate/redis-url.js';

/** The sidecar's settings, compiled from the environment: every field validated and defaulted. */
export interface SidecarConfig {
  readonly address: string;
  readonly metricsAddress: string;
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly maxQueueItems: number;
  readonly maxQueueBytes: number;
  readonly maxBatchSize: number;
  readonly maxBatchRequestItems: number;
  readonly maxReceiveMessageBytes: number;
  readonly maxInFlight: number;
  readonly requestTimeoutMs: number;
  readonly retryMaxAttempts: number;
  readonly retryMaxElapsedMs: number;
  readonly queuedRetryMaxAttempts: number;
  readonly queuedRetryMaxElapsedMs: number;
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
  readonly dedupTtlMs: number;
  readonly dedupMaxEntries: number;
  readonly shutdownGraceMs: number;
  readonly unixSocketMode: number;
  readonly tlsCertFile: string;
  readonly tlsKeyFile: string;
  readonly tlsClientCaFile: string;
  readonly journalDir: string;
  readonly journalMaxBytes: number;
  readonly defaultDelivery: DeliveryMode;
  readonly logLevel: LogLevel;
  /** Empty: fleet mode off. Holds a password: log it only through redactRedisUrl. */
  readonly redisUrl: string;
  readonly fleetRatePerSecond: number;
  readonly fleetBurst: number;
  /** Empty: derived from the region at start-up (see defaultFleetKey). */
  readonly fleetKey: string;
}

type Parser<T> = (raw: string) => T | { error: string };

interface Setting<K extends keyof SidecarConfig> {
  readonly key: K;
  readonly env: string;
  readonly default: SidecarConfig[K];
  readonly parse: Parser<SidecarConfig[K]>;
  /** One line for the README's table and `--help`. */
  readonly help: string;
  /** How a bad value is shown in the error (a secret is redacted). Default: as given. */
  readonly show?: (raw: string) => string;
}

const integer =
  (min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> =>
  (raw) => {
    const value = Number(raw);
    return /^\s*-?\d+\s*$/.test(raw) && value >= min && value <= max
      ? value
      : { error: `expected a whole number from ${min} to ${max}` };
  };

const positiveNumber: Parser<number> = (raw) => {
  const value = Number(raw);
  return raw.trim() !== '' && Number.isFinite(value) && value > 0 ? value : { error: 'expected a number above 0' };
};

const listenAddress: Parser<string> = (raw) =>
  /^unix:.+/.test(raw) || /^(\[[0-9a-fA-F:.]+\]|[^\s:/]+):\d{1,5}$/.test(raw)
    ? raw
    : { error: 'expected HOST:PORT, [IPv6]:PORT or unix:/path' };

const hostPort: Parser<string> = (raw) =>
  /^(\[[0-9a-fA-F:.]+\]|[^\s:/]+):\d{1,5}$/.test(raw) ? raw : { error: 'expected HOST:PORT or [IPv6]:PORT' };

const oneOf =
  <T extends string>(values: readonly T[]): Parser<T> =>
  (raw) =>
    (values as readonly string[]).includes(raw.toLowerCase())
      ? (raw.toLowerCase() as T)
      : { error: `expected one of ${values.join(', ')}` };

const octalMode: Parser<number> = (raw) =>
  /^0?[0-7]{3}$/.test(raw) ? Number.parseInt(raw, 8) : { error: 'expected an octal file mode such as 0600' };

const redisUrl: Parser<string> = (raw) => {
  const parsed = parseRedisUrl(raw);
  return 'error' in parsed ? parsed : raw.trim();
};

const fleetKey: Parser<string> = (raw) =>
  /^[A-Za-z0-9_.:-]{1,200}$/.test(raw) ? raw : { error: 'expected 1 to 200 letters, digits or _ . : -' };

const MIB = 1024 * 1024;

/**
 * Every setting, once: its variable, default and meaning. The README's configuration table and
 * `swf-sidecar --help` are printed from this list.
 */
export const SETTINGS = [
  s(
    'address',
    'SWF_SIDECAR_ADDRESS',
    '127.0.0.1:50051',
    listenAddress,
    'gRPC listen address: HOST:PORT or unix:/path. Clients (the CLI) read the same variable to find the sidecar.',
  ),
  s(
    'metricsAddress',
    'SWF_SIDECAR_METRICS_ADDRESS',
    '0.0.0.0:9464',
    hostPort,
    'HTTP address of /metrics, /healthz and /readyz.',
  ),
  s(
    'ratePerSecond',
    'SWF_SIDECAR_RATE_PER_SECOND',
    100,
    positiveNumber,
    "SWF calls per second at most. Half of SWF's account refill (200/s) by default, so other clients keep room.",
  ),
  s(
    'burst',
    'SWF_SIDECAR_BURST',
    200,
    integer(1),
    "Token bucket size: calls that may go at once after a quiet spell. A tenth of SWF's account bucket (2000).",
  ),
  s(
    'maxQueueItems',
    'SWF_SIDECAR_MAX_QUEUE_ITEMS',
    10_000,
    integer(1),
    'Accepted reports not yet settled (waiting, in flight or retrying) at most; beyond it calls get RESOURCE_EXHAUSTED.',
  ),
  s(
    'maxQueueBytes',
    'SWF_SIDECAR_MAX_QUEUE_BYTES',
    64 * MIB,
    integer(1024),
    'Approximate bytes of those reports at most (characters + 256 per report).',
  ),
  s(
    'maxBatchSize',
    'SWF_SIDECAR_MAX_BATCH_SIZE',
    50,
    integer(1, 10_000),
    'Most reports taken off the queue at once and sent concurrently.',
  ),
  s(
    'maxBatchRequestItems',
    'SWF_SIDECAR_MAX_BATCH_REQUEST_ITEMS',
    500,
    integer(1, 100_000),
    'Most items in one FailActivityTasks call; more is INVALID_ARGUMENT.',
  ),
  s(
    'maxReceiveMessageBytes',
    'SWF_SIDECAR_MAX_RECEIVE_MESSAGE_BYTES',
    16 * MIB,
    integer(1024),
    'Largest gRPC request accepted, in bytes (a full FailActivityTasks batch of 32 KB details needs room).',
  ),
  s(
    'maxInFlight',
    'SWF_SIDECAR_MAX_IN_FLIGHT',
    50,
    integer(1, 10_000),
    'Most SWF calls waiting for an answer at once (also the keep-alive socket pool size).',
  ),
  s(
    'requestTimeoutMs',
    'SWF_SIDECAR_REQUEST_TIMEOUT_MS',
    5_000,
    integer(1),
    'An SWF call with no answer after this long is cancelled and retried as transient.',
  ),
  s(
    'retryMaxAttempts',
    'SWF_SIDECAR_RETRY_MAX_ATTEMPTS',
    8,
    integer(1, 1_000),
    'CONFIRMED reports: SWF calls at most, the first included, on throttling and transient errors.',
  ),
  s(
    'retryMaxElapsedMs',
    'SWF_SIDECAR_RETRY_MAX_ELAPSED_MS',
    30_000,
    integer(0),
    'CONFIRMED reports: no retry is scheduled later than this after the first call.',
  ),
  s(
    'queuedRetryMaxAttempts',
    'SWF_SIDECAR_QUEUED_RETRY_MAX_ATTEMPTS',
    100,
    integer(1, 100_000),
    'QUEUED reports: SWF calls at most (nobody waits on them, so they try longer).',
  ),
  s(
    'queuedRetryMaxElapsedMs',
    'SWF_SIDECAR_QUEUED_RETRY_MAX_ELAPSED_MS',
    900_000,
    integer(0),
    'QUEUED reports: no retry later than this after the first call (15 minutes).',
  ),
  s(
    'retryBaseDelayMs',
    'SWF_SIDECAR_RETRY_BASE_DELAY_MS',
    100,
    integer(1),
    'Backoff: the first retry waits a random time below this; each further retry doubles the ceiling.',
  ),
  s(
    'retryMaxDelayMs',
    'SWF_SIDECAR_RETRY_MAX_DELAY_MS',
    10_000,
    integer(1),
    'Backoff: the ceiling stops growing here.',
  ),
  s(
    'dedupTtlMs',
    'SWF_SIDECAR_DEDUP_TTL_MS',
    300_000,
    integer(0),
    'A token delivered this recently answers DELIVERED again without an SWF call (0 turns it off).',
  ),
  s(
    'dedupMaxEntries',
    'SWF_SIDECAR_DEDUP_MAX_ENTRIES',
    100_000,
    integer(0),
    'Most tokens remembered for that (about 60 bytes each).',
  ),
  s(
    'shutdownGraceMs',
    'SWF_SIDECAR_SHUTDOWN_GRACE_MS',
    20_000,
    integer(0),
    'On SIGTERM/SIGINT, how long the queue may drain before what is left is logged and counted as undelivered.',
  ),
  s(
    'unixSocketMode',
    'SWF_SIDECAR_UNIX_SOCKET_MODE',
    0o600,
    octalMode,
    'Permissions of the unix socket when SWF_SIDECAR_ADDRESS is unix:/path, in octal (0600: only the same user).',
  ),
  s(
    'tlsCertFile',
    'SWF_SIDECAR_TLS_CERT_FILE',
    '',
    (raw) => raw,
    'PEM server certificate (chain); with SWF_SIDECAR_TLS_KEY_FILE turns on TLS for gRPC. Empty: plaintext.',
  ),
  s('tlsKeyFile', 'SWF_SIDECAR_TLS_KEY_FILE', '', (raw) => raw, 'PEM private key of that certificate.'),
  s(
    'tlsClientCaFile',
    'SWF_SIDECAR_TLS_CLIENT_CA_FILE',
    '',
    (raw) => raw,
    'PEM CA bundle; when set, clients must present a certificate it signed (mutual TLS).',
  ),
  s(
    'journalDir',
    'SWF_SIDECAR_JOURNAL_DIR',
    '',
    (raw) => raw,
    'Directory of the durable journal for QUEUED reports (empty: QUEUED reports live in memory only).',
  ),
  s(
    'journalMaxBytes',
    'SWF_SIDECAR_JOURNAL_MAX_BYTES',
    256 * MIB,
    integer(64 * 1024),
    'Bytes of undelivered QUEUED reports the journal holds at most; beyond it QUEUED calls get RESOURCE_EXHAUSTED.',
  ),
  s(
    'defaultDelivery',
    'SWF_SIDECAR_DEFAULT_DELIVERY',
    'confirmed',
    oneOf<DeliveryMode>(['confirmed', 'queued']),
    'Delivery for requests that leave it DELIVERY_UNSPECIFIED: confirmed or queued.',
  ),
  s('logLevel', 'SWF_SIDECAR_LOG_LEVEL', 'info', oneOf<LogLevel>(LOG_LEVELS), `Log level: ${LOG_LEVELS.join(', ')}.`),
  s(
    'redisUrl',
    'SWF_SIDECAR_REDIS_URL',
    '',
    redisUrl,
    'Fleet mode: redis://[user:password@]host:port[/db] or rediss:// (TLS) of the Redis that holds the SWF quota shared by every sidecar with the same fleet key. Empty: each sidecar holds only its own limit.',
    redactRedisUrl,
  ),
  s(
    'fleetRatePerSecond',
    'SWF_SIDECAR_FLEET_RATE_PER_SECOND',
    100,
    positiveNumber,
    "Fleet mode: SWF calls per second for all sidecars sharing the fleet key together. Half of SWF's account refill (200/s) by default.",
  ),
  s(
    'fleetBurst',
    'SWF_SIDECAR_FLEET_BURST',
    200,
    integer(1),
    "Fleet mode: the shared bucket's size. A tenth of SWF's account bucket (2000) by default.",
  ),
  s(
    'fleetKey',
    'SWF_SIDECAR_FLEET_KEY',
    '',
    fleetKey,
    'Fleet mode: names the shared budget. Empty: swf:REGION:RespondActivityTaskFailed, REGION as the SDK resolves it. Put the account id in it when one Redis serves several AWS accounts.',
  ),
] as const;

function s<K extends keyof SidecarConfig>(
  key: K,
  env: string,
  defaultValue: SidecarConfig[K],
  parse: Parser<SidecarConfig[K]>,
  help: string,
  show?: (raw: string) => string,
): Setting<K> {
  return { key, env, default: defaultValue, parse, help, ...(show === undefined ? {} : { show }) };
}

/** The fleet key when SWF_SIDECAR_FLEET_KEY is empty: one budget per region and API, never shared across regions. */
export function defaultFleetKey(region: string): string {
  return `swf:${region}:RespondActivityTaskFailed`;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    // One line, so a log collector keeps it whole: "invalid configuration: A: ...; B: ...".
    super(`invalid configuration: ${problems.join('; ')}`);
  }
}

/**
 * Reads the settings from `env` once. Every bad value is reported together, as
 * "NAME: expected X, got Y", in one ConfigError.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): SidecarConfig {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const setting of SETTINGS as readonly Setting<keyof SidecarConfig>[]) {
    const raw = env[setting.env];
    if (raw === undefined || raw === '') {
      values[setting.key] = setting.default;
      continue;
    }
    const parsed = setting.parse(raw);
    if (typeof parsed === 'object' && parsed !== null && 'error' in parsed) {
      problems.push(`${setting.env}: ${parsed.error}, got ${JSON.stringify(setting.show?.(raw) ?? raw)}`);
    } else {
      values[setting.key] = parsed;
    }
  }
  const config = values as unknown as SidecarConfig;
  if ((config.tlsCertFile === '') !== (config.tlsKeyFile === '')) {
    problems.push('SWF_SIDECAR_TLS_CERT_FILE and SWF_SIDECAR_TLS_KEY_FILE: expected both or neither, got one');
  }
  if (config.tlsClientCaFile !== '' && config.tlsCertFile === '') {
    problems.push('SWF_SIDECAR_TLS_CLIENT_CA_FILE: expected TLS to be on (a certificate and key), got a CA alone');
  }
  if (problems.length === 0 && config.retryMaxDelayMs < config.retryBaseDelayMs) {
    problems.push(
      `SWF_SIDECAR_RETRY_MAX_DELAY_MS: expected at least SWF_SIDECAR_RETRY_BASE_DELAY_MS (${config.retryBaseDelayMs}), got ${config.retryMaxDelayMs}`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The defaults alone, for tests and tools that override a few fields. */
export function defaultConfig(overrides: Partial<SidecarConfig> = {}): SidecarConfig {
  return { ...loadConfig({}), ...overrides };
}
