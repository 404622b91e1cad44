// The Redis scripts that keep each period's spend exact while workers add to it
// and a worker rebuilds it from Postgres at the same time (see spend-ledger.ts for why).

/** Lua: is the committed transaction `xid` inside the Postgres snapshot `snap` (`xmin:xmax:xip,…`)? */
const VISIBLE = `
local function visible(xid, snap)
  local xmin, xmax, xips = string.match(snap, '^(%d+):(%d+):(.*)$')
  xmin = tonumber(xmin)
  xmax = tonumber(xmax)
  if xid < xmin then return true end
  if xid >= xmax then return false end
  for x in string.gmatch(xips, '%d+') do
    if tonumber(x) == xid then return false end
  end
  return true
end
`;

/**
 * Adds one committed insert's costs. KEYS: per period hash, its rebuild marker and its
 * journal (3 keys each). ARGV: xid, then per hash: expire-at (unix s), n, then n field/delta pairs.
 * Per hash: while a rebuild runs (marker set) the deltas are also journalled with the xid;
 * the deltas are added unless the hash was rebuilt from a snapshot that already holds the xid.
 * Returns the hashes (indexes, 1-based) that have no snapshot: never rebuilt (a new period, a flush).
 */
export const INCREMENT_SCRIPT = `${VISIBLE}
local xid = tonumber(ARGV[1])
local pos = 2
local unrebuilt = {}
for i = 1, #KEYS, 3 do
  local hash, marker, journal = KEYS[i], KEYS[i + 1], KEYS[i + 2]
  local expireAt = tonumber(ARGV[pos])
  local n = tonumber(ARGV[pos + 1])
  pos = pos + 2
  if redis.call('EXISTS', marker) == 1 then
    local entry = { ARGV[1] }
    for j = 0, 2 * n - 1 do entry[#entry + 1] = ARGV[pos + j] end
    redis.call('RPUSH', journal, cjson.encode(entry))
    redis.call('PEXPIRE', journal, redis.call('PTTL', marker))
  end
  local snap = redis.call('HGET', hash, '__snapshot')
  if not snap then unrebuilt[#unrebuilt + 1] = (i + 2) / 3 end
  if not snap or not visible(xid, snap) then
    for j = 0, n - 1 do
      redis.call('HINCRBY', hash, ARGV[pos + 2 * j], ARGV[pos + 2 * j + 1])
    end
    redis.call('EXPIREAT', hash, expireAt)
  end
  pos = pos + 2 * n
end
return unrebuilt
`;

/**
 * Opens a rebuild of one hash. KEYS: lock, marker, journal. ARGV: token, ttl ms.
 * Takes the lock (one rebuild of a hash at a time, across workers), then starts journalling.
 * Returns 1 when this caller holds the lock, 0 when another rebuild runs.
 */
export const BEGIN_REBUILD_SCRIPT = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) == false then return 0 end
redis.call('DEL', KEYS[3])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 1
`;

/**
 * Ends a rebuild. KEYS: hash, lock, marker, journal, staging. ARGV: token, snapshot,
 * expire-at (unix s), then field/sum pairs (the sums as of the snapshot).
 * The new hash = the sums + every journalled delta whose xid the snapshot did not hold,
 * stamped with the snapshot; it replaces the old hash in one step.
 * Returns 1, or 0 when the lock was lost (expired: a rebuild slower than its ttl) and nothing changed.
 */
export const FINISH_REBUILD_SCRIPT = `${VISIBLE}
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
local hash, staging, snap = KEYS[1], KEYS[5], ARGV[2]
redis.call('DEL', staging)
redis.call('HSET', staging, '__snapshot', snap)
for i = 4, #ARGV, 2 do
  redis.call('HINCRBY', staging, ARGV[i], ARGV[i + 1])
end
for _, raw in ipairs(redis.call('LRANGE', KEYS[4], 0, -1)) do
  local entry = cjson.decode(raw)
  if not visible(tonumber(entry[1]), snap) then
    for j = 2, #entry, 2 do
      redis.call('HINCRBY', staging, entry[j], entry[j + 1])
    end
  end
end
redis.call('RENAME', staging, hash)
redis.call('EXPIREAT', hash, tonumber(ARGV[3]))
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
return 1
`;

/** Gives a rebuild up (its Postgres read failed). KEYS: lock, marker, journal. ARGV: token. */
export const ABORT_REBUILD_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return 1
`;
