-- wrk script for benchmarks/load.py: requests read from a file, rotated.
--
-- wrk ... -s rotate.lua URL -- ROWS EXPECTED THREADS [REPLAYED]
-- ROWS has one request a line, tab-separated: method, path, cookie, authorization, content
-- type, body (empty fields are left out). Thread n of THREADS sends lines n, n+THREADS, ...
-- in turn, so no two threads send the same line (a connect row is a new pair once only); a
-- thread that runs out starts its lines again and counts a wrap (the first round is not one). Answers whose status is
-- not EXPECTED are counted (a form shown again with an error is a 200, not the 302 of a
-- connect), but for REPLAYED once the thread has wrapped: a row sent again is a replay (an API
-- scan's client id recorded before answers 200, not 201). done() prints one line for load.py.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local function fields(line)
  local out = {}
  for value in (line .. "\t"):gmatch("([^\t]*)\t") do
    table.insert(out, value)
  end
  return out
end

function init(args)
  local path, count = args[1], tonumber(args[3])
  expected = tonumber(args[2])
  replayed = tonumber(args[4] or "0")
  local lines = {}
  for line in io.lines(path) do
    if line ~= "" then table.insert(lines, line) end
  end
  -- Fewer lines than threads (one page, one session): every thread sends them all. A thread
  -- with nothing to send would stall its connections.
  if #lines < count then count = 1; id = 0 end
  queue = {}
  for index, line in ipairs(lines) do
    if (index - 1) % count == id then
      local f = fields(line)
      local headers = {}
      if f[3] ~= "" then headers["Cookie"] = f[3] end
      if f[4] ~= "" then headers["Authorization"] = f[4] end
      if f[5] ~= "" then headers["Content-Type"] = f[5] end
      local body = nil
      if f[6] ~= nil and f[6] ~= "" then body = f[6] end
      table.insert(queue, wrk.format(f[1], f[2], headers, body))
    end
  end
  if #queue == 0 then
    error("no requests for thread " .. id .. " in " .. path)
  end
  position = 0
  wrapped = 0
  unexpected = 0
end

function request()
  position = position + 1
  if position > #queue then
    position = 1
    if #queue > 1 then wrapped = wrapped + 1 end
  end
  return queue[position]
end

function response(status, headers, body)
  if status ~= expected and not (wrapped > 0 and status == replayed) then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local unexpected_all, wrapped_all = 0, 0
  for _, thread in ipairs(threads) do
    unexpected_all = unexpected_all + thread:get("unexpected")
    wrapped_all = wrapped_all + thread:get("wrapped")
  end
  local errors = summary.errors
  io.write(string.format(
    "kithmeet-result requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d non_2xx_3xx=%d "
      .. "connect_errors=%d read_errors=%d write_errors=%d timeouts=%d unexpected=%d wrapped=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    errors.status, errors.connect, errors.read, errors.write, errors.timeout, unexpected_all, wrapped_all))
end
