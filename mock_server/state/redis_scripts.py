"""The Lua scripts that make multi-step changes atomic in Redis (it runs one script at a time),
and the keys they use: everything under ``gemini-mock:`` in the database of the URL."""

from __future__ import annotations

__all__ = [
           "ADD",
           "APPEND",
           "CLEAR",
           "FIRE",
           "JOURNAL",
           "JOURNAL_BYTES",
           "JOURNAL_ID",
           "JOURNAL_KEYS",
           "PREFIX",
           "PUT",
           "RENAME",
           "REPLACE",
           "RULES_VERSION",
           "RULE_KEYS",
]

PREFIX = "gemini-mock:"
JOURNAL, JOURNAL_ID, JOURNAL_BYTES = PREFIX + "journal", PREFIX + "journal:id", PREFIX + "journal:bytes"
JOURNAL_KEYS = [JOURNAL_ID, JOURNAL, JOURNAL_BYTES]
"""APPEND's keys: the id counter, the list of ``"id text"`` rows, the running byte total of the texts."""
RULES_VERSION = PREFIX + "rules:version"
RULE_KEYS = [PREFIX + "rules", RULES_VERSION, PREFIX + "rules:fired", PREFIX + "rules:draws", PREFIX + "rules:source"]
"""The rules (a list of JSON texts), their version, fire counts, draw counter, loaded file's digest.
REPLACE and ADD also take the channel (``RedisStore.changes``) on which they announce a new version."""

# APPEND: KEYS = id counter, list, byte total; ARGV = bound, byte budget, entry... ; ids for the
# entries in one step, then the oldest dropped while past either bound (the newest always kept). The
# running byte total (of entry texts, without the "id " prefix) spares a walk over the list; a journal
# without one (written before the budget existed) is counted once.
APPEND = """
local count = #ARGV - 2
local first = redis.call('INCRBY', KEYS[1], count) - count + 1
local total = tonumber(redis.call('GET', KEYS[3]) or '-1')
if total < 0 then
  total = 0
  for _, row in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
    total = total + #row - string.find(row, ' ', 1, true)
  end
end
for i = 3, #ARGV do
  redis.call('RPUSH', KEYS[2], (first + i - 3) .. ' ' .. ARGV[i])
  total = total + #ARGV[i]
end
local bound, budget, length = tonumber(ARGV[1]), tonumber(ARGV[2]), redis.call('LLEN', KEYS[2])
while length > 1 and (length > bound or total > budget) do
  local row = redis.call('LPOP', KEYS[2])
  total = total - (#row - string.find(row, ' ', 1, true))
  length = length - 1
end
redis.call('SET', KEYS[3], total)
return first
"""
CLEAR = "local n = redis.call('LLEN', KEYS[1]); redis.call('DEL', KEYS[1], KEYS[2]); return n"
REPLACE = """
if ARGV[1] ~= '' then
  if redis.call('GET', KEYS[5]) == ARGV[1] then return 0 end
  redis.call('SET', KEYS[5], ARGV[1])
end
redis.call('DEL', KEYS[1], KEYS[3], KEYS[4])
for i = 2, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
local version = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', KEYS[6], version)
return version
"""
ADD = """
redis.call('RPUSH', KEYS[1], ARGV[1])
local version = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', KEYS[3], version)
return version
"""
FIRE = """
if tonumber(redis.call('GET', KEYS[1]) or '0') ~= tonumber(ARGV[1]) then return -2 end
for i = 0, tonumber(ARGV[3]) - 1 do
  local index, limit, p = ARGV[4 + 3 * i], tonumber(ARGV[5 + 3 * i]), tonumber(ARGV[6 + 3 * i])
  local fired = tonumber(redis.call('HGET', KEYS[2], index) or '0')
  if limit < 0 or fired < limit then
    local wins = true
    if p < 1 then
      local k = redis.call('INCR', KEYS[3])
      wins = tonumber(string.sub(redis.sha1hex(ARGV[2] .. ':' .. k), 1, 13), 16) / 4503599627370496 < p
    end
    if wins then
      redis.call('HSET', KEYS[2], index, fired + 1)
      return {tonumber(index), fired}
    end
  end
end
return -1
"""
PUT = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[1])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[3])
if over > 0 then
  for _, id in ipairs(redis.call('ZPOPMIN', KEYS[2], over)) do redis.call('HDEL', KEYS[1], id) end
end
return 1
"""
RENAME = """
local meta = redis.call('HGET', KEYS[1], ARGV[1])
if meta then redis.call('HSET', KEYS[1], ARGV[2], meta); redis.call('HDEL', KEYS[1], ARGV[1]) end
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('RENAME', KEYS[2], KEYS[3]) end
return 1
"""
