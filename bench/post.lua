-- wrk script: each request sends the next prepared form body (one captcha challenge each).
-- BENCH_BODIES names a file with one urlencoded body per line; threads take alternate lines.
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_index", counter)
  table.insert(threads, thread)
end

function init(args)
  bodies = {}
  local index = 0
  local total_threads = tonumber(os.getenv("BENCH_THREADS") or "2")
  for line in io.lines(os.getenv("BENCH_BODIES")) do
    index = index + 1
    if (index - 1) % total_threads == thread_index - 1 then
      table.insert(bodies, line)
    end
  end
  position = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = os.getenv("BENCH_CONTENT_TYPE") or "application/x-www-form-urlencoded"
  local cookie = os.getenv("BENCH_COOKIE")
  if cookie and cookie ~= "" then
    wrk.headers["Cookie"] = cookie
  end
end

-- With BENCH_FORWARDED_FOR set, every request names its own client address (the app trusts one
-- proxy), as readers behind a reverse proxy do: per-address limits then apply as in production.
local forwarded = os.getenv("BENCH_FORWARDED_FOR") == "1"

function request()
  position = position + 1
  if position > #bodies then
    position = 1
  end
  if forwarded then
    local n = thread_index * 1000000 + position
    wrk.headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
  end
  return wrk.format(nil, nil, nil, bodies[position])
end

-- Answers that wrk counts as "Non-2xx or 3xx", by status, printed once at the end: the count alone
-- does not say whether a post was refused (4xx) or failed (5xx).
statuses = {}

-- A smoke run (BENCH_STOP_AFTER) stops each thread after that many answers: bench/smoke.lua, beside this file.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "smoke.lua")

function response(status, headers, body)
  if status < 200 or status >= 400 then
    statuses[status] = (statuses[status] or 0) + 1
  end
  answered_one()
end

function done(summary, latency, requests)
  local counts, codes = {}, {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses") or {}) do
      if counts[status] == nil then
        table.insert(codes, status)
      end
      counts[status] = (counts[status] or 0) + n
    end
  end
  if #codes > 0 then
    table.sort(codes)
    local parts = {}
    for _, status in ipairs(codes) do
      table.insert(parts, string.format("%d x%d", status, counts[status]))
    end
    io.write("Answers not 2xx or 3xx by status: " .. table.concat(parts, ", ") .. "\n")
  end
end
