/**
 * Lua for one "not before" mark, a hash under `<prefix>nb:<scope>` holding `at` and `exp` (epoch
 * ms). Like every RedisStore script, each names exactly one key. Liveness follows the injected
 * clock (ARGV[1] = now); a PX TTL to `exp` lets Redis drop the mark once it has expired.
 */
import { script } from './client.js'

/** ARGV: now. The mark's `at` while it is live, else nil. */
export const GET_MARK = script(
  'mark-get',
  `local exp = tonumber(redis.call('HGET', KEYS[1], 'exp'))
if exp == nil or exp <= tonumber(ARGV[1]) then return false end
return redis.call('HGET', KEYS[1], 'at')`,
)

/**
 * ARGV: now, at, expiresAt. A live mark keeps the later `at` and the later `exp`; an expired one
 * is replaced. Returns 1.
 */
export const SET_MARK = script(
  'mark-set',
  `local key, now = KEYS[1], tonumber(ARGV[1])
local at, exp = ARGV[2], ARGV[3]
local oldExp = tonumber(redis.call('HGET', key, 'exp'))
if oldExp ~= nil and oldExp > now then
  local oldAt = redis.call('HGET', key, 'at')
  if tonumber(oldAt) > tonumber(at) then at = oldAt end
  if oldExp > tonumber(exp) then exp = redis.call('HGET', key, 'exp') end
end
redis.call('HSET', key, 'at', at, 'exp', exp)
redis.call('PEXPIRE', key, string.format('%d', math.max(1, math.ceil(tonumber(exp) - now))))
return 1`,
)
