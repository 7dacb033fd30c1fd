import type { LeaseReply } from './fleet-store.js';

/**
 * The fleet's shared budget, as one Lua script that Redis runs atomically. KEYS[1] is a hash
 * holding a token bucket and the fleet's adaptive send rate:
 *
 * - The bucket refills at the current fleet rate from Redis's own clock (`TIME`, microseconds),
 *   so the sidecars' clocks never matter, and holds at most `burst` permits.
 * - The rate follows SWF's throttling exactly as one sidecar's does (src/rate/adaptive-rate.ts),
 *   but over the answers of the whole fleet: each 1 s window, with `s` the throttled share,
 *   `rate := rate × (1 − s/2) + max/10 × (1 − s)`, between max/20 (at least 1/s) and max. A window
 *   with at least 20 answers of which 80% were throttled closes at once and empties the bucket:
 *   SWF's bucket is empty, so every sidecar backs off together, and recovers together.
 * - Returned permits go back into the bucket (never beyond `burst`).
 * - How many sidecars share the budget, for their fair share (lease-planner.ts): each lease that
 *   asks for permits adds the interval until its sidecar's next lease, in seconds. Over a window
 *   a sidecar leasing every I seconds adds I about 1/I times, 1 in all, so the sum of the last
 *   whole window counts the sidecars that lease, whatever their pace, at one field's cost.
 * - A missing key (first use, expiry after `ttlMs` of silence, Redis restarted empty) starts a
 *   full bucket at the maximum rate, and the reply says so.
 *
 * Numbers are stored with 17 significant digits: Lua's own tostring keeps 14, which would cut
 * microsecond timestamps. `redis.replicate_commands()` makes `TIME` safe before Redis 5 (it is the
 * default since then). One key only, so in Redis Cluster the call lives in one hash slot.
 *
 * ARGV: requested, returned, answers, throttled, intervalMs, maxRatePerSecond, burst, ttlMs.
 * Reply: { granted, rate, tokens, fresh, sidecars sharing } (as strings where fractions matter).
 */
export const FLEET_LEASE_LUA = `
if redis.replicate_commands then redis.replicate_commands() end
local key = KEYS[1]
local requested = tonumber(ARGV[1])
local returned = tonumber(ARGV[2])
local answers = tonumber(ARGV[3])
local throttled = tonumber(ARGV[4])
local interval_ms = tonumber(ARGV[5])
local max_rate = tonumber(ARGV[6])
local burst = tonumber(ARGV[7])
local ttl_ms = tonumber(ARGV[8])
local window_us = 1000000
local increase = max_rate / 10
local min_rate = math.min(math.max(1, max_rate / 20), max_rate)

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])

local s = redis.call('HMGET', key, 'tokens', 'ts', 'rate', 'win', 'ans', 'thr', 'ns', 'pns')
local tokens, ts, rate = tonumber(s[1]), tonumber(s[2]), tonumber(s[3])
local win, ans, thr = tonumber(s[4]), tonumber(s[5]), tonumber(s[6])
local ns, pns = tonumber(s[7]) or 0, tonumber(s[8]) or 0
local fresh = 0
if not (tokens and ts and rate and win and ans and thr) then
  tokens, ts, rate, win, ans, thr, ns, pns = burst, now, max_rate, now, 0, 0, 0, 0
  fresh = 1
end
rate = math.max(min_rate, math.min(max_rate, rate))

if now > ts then
  tokens = tokens + (now - ts) / 1000000 * rate
  ts = now
end
tokens = math.min(burst, tokens + returned)

local function close_window()
  local share = 0
  if ans > 0 then share = thr / ans end
  rate = math.max(min_rate, math.min(max_rate, rate * (1 - share / 2) + increase * (1 - share)))
  ans, thr = 0, 0
end

if now < win then win = now end
if now - win >= window_us then
  local windows = math.floor((now - win) / window_us)
  close_window()
  rate = math.min(max_rate, rate + (windows - 1) * increase)
  win = win + windows * window_us
  if windows == 1 then pns = ns else pns = 0 end
  ns = 0
end
if requested > 0 then ns = ns + interval_ms / 1000 end
ans = ans + answers
thr = thr + throttled
if ans >= 20 and thr >= 0.8 * ans then
  close_window()
  win = now
  if tokens > 0 then tokens = 0 end
end

local granted = 0
if tokens >= 1 then granted = math.min(requested, math.floor(tokens)) end
tokens = tokens - granted

local function f(x) return string.format('%.17g', x) end
redis.call('HSET', key, 'tokens', f(tokens), 'ts', f(ts), 'rate', f(rate), 'win', f(win), 'ans', f(ans), 'thr', f(thr),
  'ns', f(ns), 'pns', f(pns))
redis.call('PEXPIRE', key, ttl_ms)
return { granted, f(rate), f(tokens), fresh, f(pns) }
`;

/** The Redis key of a fleet: the name in a hash tag, so Redis Cluster keeps it in one slot. */
export function fleetRedisKey(fleetKey: string): string {
  return `swf-sidecar:{${fleetKey}}`;
}

/**
 * How long Redis keeps a silent fleet's state: a minute, or twice the time to refill the burst
 * if longer. Expiring costs nothing but a fresh full bucket, which a silent fleet has anyway.
 */
export function fleetStateTtlMs(maxRatePerSecond: number, burst: number): number {
  return Math.max(60_000, Math.ceil((2 * burst * 1000) / maxRatePerSecond));
}

/** Parses the script's reply; throws on anything else (a wrong script under the same name). */
export function parseLeaseReply(raw: unknown): LeaseReply {
  if (!Array.isArray(raw) || raw.length !== 5) throw new Error(`unexpected lease reply: ${JSON.stringify(raw)}`);
  const [granted, rate, tokens, fresh, sharing] = raw as unknown[];
  const reply = {
    granted: Number(granted),
    fleetRatePerSecond: Number(rate),
    fleetTokens: Number(tokens),
    fresh: Number(fresh) === 1,
    sidecarsSharing: Number(sharing),
  };
  if (![reply.granted, reply.fleetRatePerSecond, reply.fleetTokens, reply.sidecarsSharing].every(Number.isFinite)) {
    throw new Error(`unexpected lease reply: ${JSON.stringify(raw)}`);
  }
  return reply;
}
