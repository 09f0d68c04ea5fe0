/**
 * Lua for one user's index: a hash holding `#` (insertion counter) and, per session,
 * `k<session key>` = "<createdAt> <seq> <lowExp> <absExp> <flag>". lowExp is the session's expiry
 * when the entry was written, a lower bound (touch extends a session without visiting the index);
 * absExp is its absolute expiry, an upper bound. flag is `x` while the session is being evicted
 * (its record deleted, its entry not yet), `-` otherwise. Each script names only this one key.
 */
import { script } from './client.js'

const PARSE = `
local function parse(field, value)
  local c, s, lo, ab, fl = string.match(value, '^(%S+) (%S+) (%S+) (%S+) (%S)$')
  return { field = field, c = c, s = s, lo = lo, ab = ab, fl = fl }
end
local function join(e, lo, fl)
  return e.c .. ' ' .. e.s .. ' ' .. lo .. ' ' .. e.ab .. ' ' .. fl
end
`

/** No ARGV. The whole index hash. */
export const READ = script('index-read', `return redis.call('HGETALL', KEYS[1])`)

/**
 * ARGV: triples of field, seq, action. Applies each action only if the entry still has that seq
 * (a later create under the same key wrote a new one): '' deletes the entry, '+' clears its
 * eviction flag, anything else replaces the value.
 */
export const SET_IF = script(
  'index-set-if',
  `${PARSE}
for i = 1, #ARGV, 3 do
  local value = redis.call('HGET', KEYS[1], ARGV[i])
  if value then
    local e = parse(ARGV[i], value)
    if e.s == ARGV[i + 1] then
      local action = ARGV[i + 2]
      if action == '' then redis.call('HDEL', KEYS[1], ARGV[i])
      elseif action == '+' then redis.call('HSET', KEYS[1], ARGV[i], join(e, e.lo, '-'))
      else redis.call('HSET', KEYS[1], ARGV[i], action) end
    end
  end
end
return 1`,
)

/**
 * Adds or replaces the entry of one session and, with a cap, flags the oldest others for eviction
 * (or, refusing, adds nothing when the cap is reached).
 * ARGV: now, field, createdAt, lowExp, absExp, cap (0: none), ifAbsent ('1': keep an existing
 * entry), force ('1': count unverified entries as live), refuse ('1': refuse instead of evicting),
 * then triples of field, seq, verified expiry (0: gone) from PEEKs the previous call asked for.
 * Returns {'probe', field, seq, ...} when entries whose lowExp has passed would decide the
 * eviction: PEEK them and call again. {'refused'} when refusing at the cap. Otherwise {'added' or
 * 'kept', seq, previous value or '', then field, seq, lowExp of each flagged session, oldest first}.
 */
export const ADD = script(
  'index-add',
  `${PARSE}
local idx, now, own = KEYS[1], tonumber(ARGV[1]), ARGV[2]
for i = 10, #ARGV, 3 do
  local value = redis.call('HGET', idx, ARGV[i])
  if value then
    local e = parse(ARGV[i], value)
    if e.s == ARGV[i + 1] and tonumber(ARGV[i + 2]) <= now then redis.call('HDEL', idx, ARGV[i])
    elseif e.s == ARGV[i + 1] then redis.call('HSET', idx, ARGV[i], join(e, ARGV[i + 2], e.fl)) end
  end
end
local prev = redis.call('HGET', idx, own)
if prev and ARGV[7] == '1' then return { 'kept', parse(own, prev).s, prev } end
local all = redis.call('HGETALL', idx)
local others, suspects, maxAbs = {}, { 'probe' }, tonumber(ARGV[5])
for i = 1, #all, 2 do
  if all[i] ~= '#' and all[i] ~= own then
    local e = parse(all[i], all[i + 1])
    if tonumber(e.ab) <= now then redis.call('HDEL', idx, e.field)
    else
      maxAbs = math.max(maxAbs, tonumber(e.ab))
      if e.fl == '-' then
        others[#others + 1] = e
        if tonumber(e.lo) <= now then suspects[#suspects + 1] = e.field; suspects[#suspects + 1] = e.s end
      end
    end
  end
end
local cap = tonumber(ARGV[6])
local victims = {}
if cap > 0 and #others >= cap then
  if #suspects > 1 and ARGV[8] ~= '1' then return suspects end
  if ARGV[9] == '1' then return { 'refused' } end
  table.sort(others, function(a, b)
    local ac, bc = tonumber(a.c), tonumber(b.c)
    if ac ~= bc then return ac < bc end
    return tonumber(a.s) < tonumber(b.s)
  end)
  for i = 1, #others - cap + 1 do
    local e = others[i]
    redis.call('HSET', idx, e.field, join(e, e.lo, 'x'))
    victims[#victims + 1] = e
  end
end
local seq = tostring(redis.call('HINCRBY', idx, '#', 1))
redis.call('HSET', idx, own, ARGV[3] .. ' ' .. seq .. ' ' .. ARGV[4] .. ' ' .. ARGV[5] .. ' -')
redis.call('PEXPIRE', idx, string.format('%d', math.max(1, math.ceil(maxAbs - now))))
local reply = { 'added', seq, prev or '' }
for _, e in ipairs(victims) do
  reply[#reply + 1] = e.field; reply[#reply + 1] = e.s; reply[#reply + 1] = e.lo
end
return reply`,
)
