-- Replays requests built beforehand by bench/lib/seed.mjs, one line each:
-- "METHOD PATH BODY" (BODY already encrypted, sent as text/plain). Every
-- request is formatted once in init(), so wrk measures the server, not Lua.
-- Thread k of n sends lines k, k+n, k+2n, ... so no two threads share one.
--   wrk -s replay.lua URL -- FILE THREADS MODE
-- MODE names the intent: "cycle" (reads, sent over and over) or "once" (a
-- POST that creates: bench/run prepares more lines than a run can send).
-- done() prints "replay: wrapped N", how many times a thread ran out of
-- lines and started again: in "once" mode that means repeated requests.

local next_index = 0
local threads = {}

function setup(thread)
   thread:set("index", next_index)
   next_index = next_index + 1
   table.insert(threads, thread)
end

function init(args)
   local file, thread_count = args[1], tonumber(args[2])
   local headers = { ["Content-Type"] = "text/plain" }
   prepared = {}
   local line_number = 0
   for line in io.lines(file) do
      if line_number % thread_count == index then
         local method, path, body = line:match("^(%S+) (%S+) ?(.*)$")
         if method then
            prepared[#prepared + 1] = wrk.format(method, path, headers, body ~= "" and body or nil)
         end
      end
      line_number = line_number + 1
   end
   if #prepared == 0 then
      error("replay: no request for thread " .. index .. " in " .. file)
   end
   position = 0
   wrapped = 0
end

function request()
   position = position + 1
   if position > #prepared then
      position = 1
      wrapped = wrapped + 1
   end
   return prepared[position]
end

function done(summary, latency, requests)
   local total = 0
   for _, thread in ipairs(threads) do
      total = total + (thread:get("wrapped") or 0)
   end
   io.write(string.format("replay: wrapped %d\n", total))
end
