/**
 * SWF_SIDECAR_REDIS_URL: `redis://[user[:password]@]host[:port][/db]` or `rediss://…` (TLS), as
 * ElastiCache, MemoryDB and Valkey print them. Parsed once; the password never leaves this
 * module in a log line or an error (redactRedisUrl).
 */
export interface RedisEndpoint {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly db: number;
  /** The URL with the password replaced by `***`, for logs. */
  readonly redacted: string;
}

/** Parses and validates; returns a problem ("expected …") instead of throwing. */
export function parseRedisUrl(raw: string): RedisEndpoint | { error: string } {
  const expected = 'expected redis://[user:password@]host[:port][/db] or rediss://…';
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return { error: expected };
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return { error: expected };
  if (url.hostname === '') return { error: `${expected} (no host)` };
  const dbText = url.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d{1,5}$/.test(dbText)) return { error: `${expected} (the path must be a database number)` };
  const port = url.port === '' ? 6379 : Number(url.port);
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port,
    tls: url.protocol === 'rediss:',
    username: url.username === '' ? undefined : decodeURIComponent(url.username),
    password: url.password === '' ? undefined : decodeURIComponent(url.password),
    db: dbText === '' ? 0 : Number(dbText),
    redacted: redactRedisUrl(raw),
  };
}

/** The URL with any password replaced by `***` (also for strings that are not valid URLs). */
export function redactRedisUrl(raw: string): string {
  try {
    const url = new URL(raw.trim());
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    // Not a URL: hide whatever sits between "://" and "@", if anything.
    return raw.replace(/(\/\/[^@/]*:)[^@/]*@/, '$1***@').replace(/^([^/]*:)[^@/:]*@/, '$1***@');
  }
}
