-- wrk script of a smoke run's plain requests: each thread stops after BENCH_STOP_AFTER answers.
-- wrk still waits out its duration and reports as usual; the load (wrk's and the server's CPU)
-- is a few dozen requests instead of a second's worth, which the test suite runs beside others.
-- post.lua and like.lua load this file and call `answered_one` from their own `response`.
local stop_after = tonumber(os.getenv("BENCH_STOP_AFTER") or "0")
local answered = 0

function answered_one()
  answered = answered + 1
  if stop_after > 0 and answered >= stop_after then
    wrk.thread:stop()
  end
end

function response(status, headers, body)
  answered_one()
end
