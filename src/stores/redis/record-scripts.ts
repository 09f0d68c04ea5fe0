/**
 * Lua for one session's hash. Like every RedisStore script, each names exactly one key (KEYS[1]),
 * so it runs on one cluster node whatever the key's slot; ../redis.ts explains the ordering
 * across keys.
 *
 * The hash: `v` (version), `exp` (expiresAt, epoch ms), `ix` (index identity "<seq> <userId as
 * JSON>", user sessions only), `f"<field>"` (each record field as JSON) and `d"<key>"` (each
 * top-level data key as JSON), so a merge rewrites only the keys that changed and Lua never
 * parses application data. `tomb` marks a session evicted before its create arrived.
 */
import { script } from './client.js'

// Liveness is decided by the injected clock (ARGV[1] = now), never by Redis's TTL alone.
const LIVE_EXP = `
local key, now = KEYS[1], tonumber(ARGV[1])
local exp = tonumber(redis.call('HGET', key, 'exp'))
local live = exp ~= nil and exp > now
`

// Writes in one HSET and one HDEL at most, a chunk at a time (Lua's unpack has a stack limit);
// exp = min(idle, absolute), and the PX TTL lets Redis drop the hash once it is dead.
const WRITE = `
local function chunked(command, list)
  for i = 1, #list, 4000 do redis.call(command, key, unpack(list, i, math.min(i + 3999, #list))) end
end
local function expireAt(at)
  redis.call('PEXPIRE', key, string.format('%d', math.max(1, math.ceil(at - now))))
end
`

/** ARGV: now. {exp, ix} of the session, for a cap decision; each false when absent. */
export const PEEK = script(
  'peek',
  `return { redis.call('HGET', KEYS[1], 'exp'), redis.call('HGET', KEYS[1], 'ix') }`,
)

/**
 * ARGV: now, ttl ms (<= 0: the record is already dead, store nothing), ix ('' if anonymous), then
 * field/value pairs. 'exists' if a live session holds the key; 'evicted' if a concurrent login
 * evicted this session before it was written (its tombstone carries our ix); else 'ok'.
 */
export const CREATE = script(
  'create',
  `${LIVE_EXP}
if live then return 'exists' end
local evicted = ARGV[3] ~= '' and redis.call('HGET', key, 'tomb') == ARGV[3]
redis.call('DEL', key)
if evicted then return 'evicted' end
if tonumber(ARGV[2]) <= 0 then return 'ok' end
for i = 4, #ARGV, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', key, ARGV[2])
return 'ok'`,
)

/**
 * ARGV: now, ifVersion ('' for none), ix ('' keep, '-' delete, else set), the new
 * idleExpiresAt, count of fields to delete, those fields, then field/value pairs to set (deletes
 * first, as applyPatch does). 'missing', 'conflict', or {'ok', previous ix or '', new v}: four
 * commands (HMGET, HDEL only when something is deleted, HSET, PEXPIRE), never the whole hash.
 */
export const UPDATE = script(
  'update',
  `local key, now = KEYS[1], tonumber(ARGV[1])
${WRITE}
local h = redis.call('HMGET', key, 'exp', 'v', 'ix', 'f"absoluteExpiresAt"')
local exp = tonumber(h[1])
if exp == nil or exp <= now then return 'missing' end
if ARGV[2] ~= '' and h[2] ~= ARGV[2] then return 'conflict' end
local deletes = tonumber(ARGV[5])
local del = {}
for i = 6, 5 + deletes do del[#del + 1] = ARGV[i] end
if ARGV[3] == '-' then del[#del + 1] = 'ix' end
if #del > 0 then chunked('HDEL', del) end
local v = tonumber(h[2]) + 1
local at = math.min(tonumber(ARGV[4]), tonumber(h[4]))
local set = { 'v', string.format('%d', v), 'exp', string.format('%.17g', at) }
if ARGV[3] ~= '' and ARGV[3] ~= '-' then set[5] = 'ix'; set[6] = ARGV[3] end
for i = 6 + deletes, #ARGV do set[#set + 1] = ARGV[i] end
chunked('HSET', set)
expireAt(at)
return { 'ok', h[3] or '', v }`,
)

/** ARGV: now, lastSeenAt, idleExpiresAt. 1 if the live session was extended, else 0. */
export const TOUCH = script(
  'touch',
  `local key, now = KEYS[1], tonumber(ARGV[1])
${WRITE}
local h = redis.call('HMGET', key, 'exp', 'f"absoluteExpiresAt"')
local exp = tonumber(h[1])
if exp == nil or exp <= now then return 0 end
local at = math.min(tonumber(ARGV[3]), tonumber(h[2]))
redis.call('HSET', key, 'f"lastSeenAt"', ARGV[2], 'f"idleExpiresAt"', ARGV[3], 'exp', string.format('%.17g', at))
expireAt(at)
return 1`,
)

/** No ARGV. Deletes the session; returns its ix ('' if it had none or did not exist). */
export const DESTROY = script(
  'destroy',
  `local ix = redis.call('HGET', KEYS[1], 'ix') or ''
redis.call('DEL', KEYS[1])
return ix`,
)

/**
 * ARGV: now, ix, tombstone ttl ms ('' for none). Deletes the session if it is still the one the
 * index entry names (same ix): 'live' or 'dead'. 'other' if the key now holds a live session of
 * someone else. 'missing' if nothing live is there; with a ttl it leaves a tombstone instead and
 * answers 'tomb': a create of this very session still in flight then gives up.
 */
export const EVICT = script(
  'evict',
  `${LIVE_EXP}
if exp ~= nil and redis.call('HGET', key, 'ix') == ARGV[2] then
  redis.call('DEL', key)
  if live then return 'live' end
  return 'dead'
end
if live then return 'other' end
if ARGV[3] == '' then return 'missing' end
redis.call('HSET', key, 'tomb', ARGV[2])
redis.call('PEXPIRE', key, ARGV[3])
return 'tomb'`,
)
