-- wrk script for the memory run: requests the paths given after "--" in turn, and prints how many
-- requests were answered and how many failed as one JSON line for bench.py.
-- Usage: wrk -s mix.lua URL -- PATH [PATH...]

local paths = {}
local sent = 0

init = function(args)
  for i = 1, #args do
    paths[#paths + 1] = args[i]
  end
end

request = function()
  sent = sent + 1
  return wrk.format("GET", paths[(sent % #paths) + 1])
end

done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "errors": %d}\n',
    summary.requests,
    errors.connect + errors.read + errors.write + errors.timeout + errors.status
  ))
end
