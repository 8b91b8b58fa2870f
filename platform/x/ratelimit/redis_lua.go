package ratelimit

// The Lua scripts of Redis. Redis runs a script atomically, so each
// Limiter call is one script: no other node's request can slip between a
// check and the count it allows.
//
// Instants are passed in by the caller (the injected clock, never Redis
// TIME) as 20-digit decimal strings (see encodeTime), because Lua's numbers
// are doubles, too coarse for nanoseconds since 1970; strings of one width
// compare like the numbers they spell, in Lua and in Redis's lexical ranges.
// A sliding log is a sorted set whose members are "<instant>:<unique>", all
// of score 0, so ZREMRANGEBYLEX trims it and rank order is time order.

// reserveLua checks every window, report and block, and counts the request
// in every log and report or in none.
//
// KEYS: the nl logs, then the nr reports, then the nb blocks.
// ARGV: now, unique, nl, nw, nr, nb; per log: cut (its first instant still
// in the window is after cut), ttl in ms; per window: its log (1-based),
// limit.
// Returns {1} when taken; otherwise {0, per window: the instant whose
// leaving frees a place or "", per report: "reset limit" when it refuses
// or "", per block: its end or ""}.
const reserveLua = `
local now, unique = ARGV[1], ARGV[2]
local nl, nw, nr, nb = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local a = 7
local counts = {}
for i = 1, nl do
  redis.call('ZREMRANGEBYLEX', KEYS[i], '-', '(' .. ARGV[a] .. ';')
  counts[i] = redis.call('ZCARD', KEYS[i])
  a = a + 2
end
local out, refused = {0}, false
for j = 1, nw do
  local li, limit = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  a = a + 2
  local n = counts[li]
  if n >= limit then
    local m = redis.call('ZRANGE', KEYS[li], n - limit, n - limit)[1]
    out[#out + 1] = string.sub(m, 1, 20)
    refused = true
  else
    out[#out + 1] = ''
  end
end
local active = {}
for r = 1, nr do
  local k = KEYS[nl + r]
  local h = redis.call('HMGET', k, 'reset', 'remaining', 'limit')
  if h[1] and h[1] > now then
    active[#active + 1] = k
    if tonumber(h[2]) <= 0 then
      out[#out + 1] = h[1] .. ' ' .. (h[3] or '0')
      refused = true
    else
      out[#out + 1] = ''
    end
  else
    out[#out + 1] = ''
  end
end
for b = 1, nb do
  local u = redis.call('GET', KEYS[nl + nr + b])
  if u and u > now then
    out[#out + 1] = u
    refused = true
  else
    out[#out + 1] = ''
  end
end
if refused then
  return out
end
a = 7
for i = 1, nl do
  local at = now
  local last = redis.call('ZRANGE', KEYS[i], -1, -1)[1]
  if last and string.sub(last, 1, 20) > at then
    at = string.sub(last, 1, 20)
  end
  redis.call('ZADD', KEYS[i], 0, at .. ':' .. unique)
  redis.call('PEXPIRE', KEYS[i], ARGV[a + 1])
  a = a + 2
end
for _, k in ipairs(active) do
  redis.call('HINCRBY', k, 'remaining', -1)
end
return {1}
`

// observeLua merges X's reports, as Memory.observe does.
//
// KEYS: the reports. ARGV: now; per report: remaining, limit (0 unknown),
// reset, ttl in ms.
const observeLua = `
local now = ARGV[1]
for i = 1, #KEYS do
  local a = 2 + (i - 1) * 4
  local rem, lim, reset, ttl = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), ARGV[a + 2], ARGV[a + 3]
  local cur = redis.call('HMGET', KEYS[i], 'reset', 'remaining')
  if not cur[1] or cur[1] <= now or reset > cur[1] then
    redis.call('HSET', KEYS[i], 'limit', lim, 'remaining', rem, 'reset', reset)
    redis.call('PEXPIRE', KEYS[i], ttl)
  elseif reset == cur[1] then
    if rem < tonumber(cur[2]) then
      redis.call('HSET', KEYS[i], 'remaining', rem)
    end
    if lim > 0 then
      redis.call('HSET', KEYS[i], 'limit', lim)
    end
  end
end
return 1
`

// exhaustedLua records a block unless a later one is held.
//
// KEYS: the block. ARGV: until, ttl in ms.
const exhaustedLua = `
local cur = redis.call('GET', KEYS[1])
if not cur or ARGV[1] > cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 1
`

// remainingLua reads, without changing anything, what Remaining needs.
//
// KEYS: per window its log, report and block. ARGV: now; per window: cut,
// limit. Returns per window: the count in the window, the instant at which
// the count next falls ("" when none), the report's "reset remaining" when
// active or "", the block's end when active or "".
const remainingLua = `
local now = ARGV[1]
local out = {}
for j = 1, #KEYS / 3 do
  local log, rep, blk = KEYS[3 * j - 2], KEYS[3 * j - 1], KEYS[3 * j]
  local cut, limit = ARGV[2 * j], tonumber(ARGV[2 * j + 1])
  local from = '(' .. cut .. ';'
  local n = redis.call('ZLEXCOUNT', log, from, '+')
  out[#out + 1] = n
  if n > 0 then
    local skip = n - limit
    if skip < 0 then skip = 0 end
    local m = redis.call('ZRANGEBYLEX', log, from, '+', 'LIMIT', skip, 1)[1]
    out[#out + 1] = string.sub(m, 1, 20)
  else
    out[#out + 1] = ''
  end
  local h = redis.call('HMGET', rep, 'reset', 'remaining')
  if h[1] and h[1] > now then
    out[#out + 1] = h[1] .. ' ' .. h[2]
  else
    out[#out + 1] = ''
  end
  local u = redis.call('GET', blk)
  if u and u > now then
    out[#out + 1] = u
  else
    out[#out + 1] = ''
  end
end
return out
`

// recordLua counts a request taken while Redis was away, at its instant.
//
// KEYS: the logs. ARGV: the instant, unique; per log: ttl in ms, which
// only ever lengthens the key's life.
const recordLua = `
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], 0, ARGV[1] .. ':' .. ARGV[2])
  local ttl = tonumber(ARGV[2 + i])
  if redis.call('PTTL', KEYS[i]) < ttl then
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
end
return 1
`
