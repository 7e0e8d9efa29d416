-- The wrk script of `mms-bench serve`: POSTs real search queries, each request
-- a different line of a file of JSON bodies, to both services alike.
--
--   MMS_WRK_BODIES=bodies.jsonl MMS_WRK_THREADS=2 MMS_WRK_OFFSET=0 MMS_WRK_COUNT=5000 \
--   wrk -t2 -c32 -d10s --latency -s Benchmarks/anchors/serve_wrk.lua http://127.0.0.1:PORT/v1/search
--
-- Environment:
--   MMS_WRK_BODIES  one JSON request body per line (required)
--   MMS_WRK_OFFSET  the first line this run uses (0-based; past the end it
--                   continues from the first line)
--   MMS_WRK_COUNT   how many lines from the offset this run may use (0: all);
--                   thread t of n takes the lines offset+t, offset+t+n, … and
--                   starts them over (counted as `wrapped`) only when it runs out
--   MMS_WRK_THREADS the -t given to wrk (required when it is not 1)
--   MMS_WRK_RATE    total requests per second to pace to (0 or unset: as fast as
--                   the connections go). Pacing is open-loop per thread: each
--                   finished request claims the next slot of a fixed schedule and
--                   waits for it (wrk's delay()); a late slot goes at once.
--
-- done() prints one line `MMSWRK {json}`: requests, duration, statuses by code,
-- socket errors, wraps, and latency percentiles in microseconds: wrk's own
-- (every response) and, apart, the 200s' and the other statuses'. For those,
-- each request carries an `X-Request-ID` that `mms serve` echoes; the time
-- from request() (called as wrk writes the request) to response() (called as
-- the response completes) is the client-side latency of that one request,
-- kernel and server queueing included. A server that does not echo the header
-- gets no per-status latencies (count 0).

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } mms_timespec;
  int clock_gettime(int clock, mms_timespec *ts);
]]
local function now_ms()
  local ts = ffi.new("mms_timespec")
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

-- wrk calls setup() for a thread and then that thread's init() before it sets
-- up the next thread, so the thread count comes from the environment.
local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("id", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

local bodies = {}
local position = 1
-- Globals, so that done() can read them with thread:get().
wrapped = 0
statuses = {}
ok_latency = {}
other_latency = {}
local sent = {}
local sequence = 0
local interval = 0
local next_slot = 0

function init(args)
  local path = os.getenv("MMS_WRK_BODIES")
  if path == nil then error("MMS_WRK_BODIES is not set") end
  local offset = tonumber(os.getenv("MMS_WRK_OFFSET") or "0")
  local count = tonumber(os.getenv("MMS_WRK_COUNT") or "0")
  local n = tonumber(os.getenv("MMS_WRK_THREADS") or "1")
  local all = {}
  for line in io.lines(path) do
    if line ~= "" then table.insert(all, line) end
  end
  if count <= 0 or count > #all then count = #all end
  for i = 0, count - 1 do
    if i % n == id then table.insert(bodies, all[(offset + i) % #all + 1]) end
  end
  if #bodies == 0 then error("no request bodies for thread " .. id .. " in " .. path) end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  local rate = tonumber(os.getenv("MMS_WRK_RATE") or "0")
  if rate > 0 then
    interval = 1000 * n / rate
    next_slot = now_ms()
  end
end

function request()
  local body = bodies[position]
  position = position + 1
  if position > #bodies then
    position = 1
    wrapped = wrapped + 1
  end
  sequence = sequence + 1
  local rid = id .. "-" .. sequence
  wrk.headers["X-Request-ID"] = rid
  sent[rid] = now_ms()
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  local t = now_ms()
  statuses[status] = (statuses[status] or 0) + 1
  local rid = headers["X-Request-ID"] or headers["x-request-id"] or headers["X-Request-Id"]
  local start = rid and sent[rid]
  if start then
    sent[rid] = nil
    local list = status == 200 and ok_latency or other_latency
    list[#list + 1] = (t - start) * 1000
  end
end

if (tonumber(os.getenv("MMS_WRK_RATE") or "0") or 0) > 0 then
  function delay()
    local slot = next_slot
    next_slot = next_slot + interval
    local wait = slot - now_ms()
    if wait < 0 then return 0 end
    return math.floor(wait)
  end
end

function done(summary, latency, requests)
  local codes = {}
  local wraps = 0
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses")) do
      codes[code] = (codes[code] or 0) + n
    end
    wraps = wraps + t:get("wrapped")
  end
  local parts = {}
  for code, n in pairs(codes) do table.insert(parts, string.format('"%d":%d', code, n)) end
  -- Upper bounds on the latency percentiles of the 200s alone: wrk keeps one
  -- histogram for every response, so the q-quantile of the successes is at
  -- most the histogram's (f + q(1 - f))-quantile, f the fraction of other
  -- statuses (exact when every other response was faster than every success).
  local total, ok = 0, codes[200] or 0
  for _, n in pairs(codes) do total = total + n end
  local f = total > 0 and (total - ok) / total or 0
  local function admitted(q)
    return latency:percentile(math.min(100, 100 * (f + q / 100 * (1 - f))))
  end
  -- Exact percentiles of the timed requests by status class.
  local function gather(name)
    local all = {}
    for _, t in ipairs(threads) do
      for _, v in ipairs(t:get(name)) do all[#all + 1] = v end
    end
    table.sort(all)
    local function q(p)
      if #all == 0 then return 0 end
      return all[math.max(1, math.min(#all, math.ceil(p / 100 * #all)))]
    end
    return string.format('{"count":%d,"p50":%d,"p90":%d,"p99":%d,"p99_9":%d,"max":%d}',
      #all, q(50), q(90), q(99), q(99.9), q(100))
  end
  local e = summary.errors
  io.write(string.format(
    'MMSWRK {"requests":%d,"duration_us":%d,"statuses":{%s},"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
    .. '"wrapped":%d,"latency_us":{"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p99_9":%d},'
    .. '"ok_latency_bound_us":{"p50":%d,"p99":%d,"p99_9":%d},"ok_latency_us":%s,"other_latency_us":%s}\n',
    summary.requests, summary.duration, table.concat(parts, ","),
    e.connect, e.read, e.write, e.status, e.timeout, wraps,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), admitted(50), admitted(99), admitted(99.9), gather("ok_latency"), gather("other_latency")))
end
