-- wrk script: 讚 from a new reader each time (no cookie), on the article's comments in turn, each
-- request from its own client address (the app trusts one proxy), answered as JSON like reader.js.
-- BENCH_LIKE_PREFIX is the article's path; BENCH_LIKE_IDS how many comment ids (1..n) to cycle.
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_index", counter)
end

function init(args)
  position = 0
  prefix = os.getenv("BENCH_LIKE_PREFIX")
  ids = tonumber(os.getenv("BENCH_LIKE_IDS") or "200")
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Accept"] = "application/json"
end

function request()
  position = position + 1
  local n = thread_index * 1000000 + position
  wrk.headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
  return wrk.format(nil, string.format("%s/comments/%d/like", prefix, position % ids + 1), nil, "like=1")
end

-- A smoke run (BENCH_STOP_AFTER) stops each thread after that many answers: bench/smoke.lua, beside this file.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "smoke.lua")
