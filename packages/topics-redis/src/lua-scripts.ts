/**
 * The Lua scripts that make each topic operation one atomic step in Redis.
 * Both take the topic's keys (see key-layout.ts), which share one hash tag,
 * so they run on Redis Cluster too.
 *
 * Epochs: the `meta` hash holds the epoch and the last offset. When it is
 * missing (first use, a restart without persistence, an evicted key), the
 * script starts a new epoch with the candidate the caller passed (scripts
 * cannot make good random numbers), and drops any stream left from the old
 * one, so an offset never names two publications.
 */

/** A script and the name it is known by in errors. */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
}

const EPOCH_AND_TRIM = `
-- Integers as digits: Lua's own conversion writes 1e+15 from 10^15.
local function digits(n) return string.format('%.0f', n) end

-- Returns the epoch, and whether this call started it.
local function ensure_epoch(meta, stream, candidate)
  local epoch = redis.call('HGET', meta, 'e')
  if epoch then return epoch, false end
  redis.call('DEL', stream)
  redis.call('HSET', meta, 'e', candidate, 'o', 0)
  return candidate, true
end

-- Entries are in publish order, so the expired ones are a prefix: trim up to the first that is not.
local function trim_by_age(stream, cutoff)
  for _ = 1, 16 do
    local batch = redis.call('XRANGE', stream, '-', '+', 'COUNT', 64)
    if #batch == 0 then return end
    for i = 1, #batch do
      local fields = batch[i][2]
      local time = nil
      for f = 1, #fields, 2 do
        if fields[f] == 't' then time = tonumber(fields[f + 1]) end
      end
      if time == nil or time >= cutoff then
        if i > 1 then redis.call('XTRIM', stream, 'MINID', batch[i][1]) end
        return
      end
    end
    local last = tonumber(string.match(batch[#batch][1], '^(%d+)'))
    redis.call('XTRIM', stream, 'MINID', digits(last + 1) .. '-0')
  end
end
`;

/**
 * Publish. KEYS: meta, stream, idempotency key (or the meta key again when
 * there is none). ARGV: data, epoch candidate, now (ms), max length (0 = no
 * limit), max age (ms, 0 = no limit), idempotency TTL (ms), channel,
 * has-idempotency-key (0/1), meta TTL (ms, 0 = keep).
 * Returns { epoch, offset, duplicate (0/1) }.
 */
export const PUBLISH_SCRIPT: LuaScript = {
  name: 'publish',
  source: `${EPOCH_AND_TRIM}
local meta, stream, idem = KEYS[1], KEYS[2], KEYS[3]
local data, candidate, now_text = ARGV[1], ARGV[2], ARGV[3]
local now = tonumber(now_text)
local max_length, max_age, idem_ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local channel, keyed, meta_ttl = ARGV[7], ARGV[8] == '1', tonumber(ARGV[9])

local epoch = ensure_epoch(meta, stream, candidate)
if keyed then
  local seen = redis.call('GET', idem)
  if seen then
    local seen_epoch, seen_offset = string.match(seen, '^([^:]+):(%d+)$')
    -- A key from a lost epoch names nothing that still exists: publish anew.
    if seen_epoch == epoch then return { epoch, tonumber(seen_offset), 1 } end
  end
end

local offset = redis.call('HINCRBY', meta, 'o', 1)
if max_length > 0 then
  redis.call('XADD', stream, 'MAXLEN', max_length, digits(offset) .. '-0', 'd', data, 't', now_text)
else
  redis.call('XADD', stream, digits(offset) .. '-0', 'd', data, 't', now_text)
end
if max_age > 0 then
  trim_by_age(stream, now - max_age)
  -- An idle stream expires whole; meta keeps the epoch and the offset going.
  redis.call('PEXPIRE', stream, max_age)
end
-- A topic with publications keeps its epoch (unless told otherwise), even if a read started it with an expiry.
if meta_ttl > 0 then redis.call('PEXPIRE', meta, meta_ttl) else redis.call('PERSIST', meta) end
if keyed then redis.call('SET', idem, epoch .. ':' .. digits(offset), 'PX', idem_ttl) end
redis.call('PUBLISH', channel, epoch .. ':' .. digits(offset) .. ':' .. data)
return { epoch, offset, 0 }
`,
};

/**
 * Read history. KEYS: meta, stream. ARGV: after (offset, or '' for position
 * only), limit, epoch candidate, now (ms), max age (ms, 0 = no limit), TTL
 * (ms) of an epoch this read starts, until a publish makes it permanent.
 * Returns { epoch, latest, offset1, data1, offset2, data2, ... }.
 */
export const READ_SCRIPT: LuaScript = {
  name: 'read',
  source: `${EPOCH_AND_TRIM}
local meta, stream = KEYS[1], KEYS[2]
local after, limit, candidate = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local now, max_age, idle_ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])

local epoch, started = ensure_epoch(meta, stream, candidate)
-- Reading a topic nobody published on must not leave a key behind for good: any topic name can be read.
if started then redis.call('PEXPIRE', meta, idle_ttl) end
local latest = tonumber(redis.call('HGET', meta, 'o'))
local reply = { epoch, latest }
if after == '' then return reply end
if max_age > 0 then trim_by_age(stream, now - max_age) end
local entries = redis.call('XRANGE', stream, '(' .. after .. '-0', '+', 'COUNT', limit)
for i = 1, #entries do
  local fields = entries[i][2]
  local data = ''
  for f = 1, #fields, 2 do
    if fields[f] == 'd' then data = fields[f + 1] end
  end
  reply[#reply + 1] = tonumber(string.match(entries[i][1], '^(%d+)'))
  reply[#reply + 1] = data
end
return reply
`,
};
