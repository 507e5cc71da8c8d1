-- wrk script for one benchmark run: prints the run's figures as one JSON line for bench.py.
-- Latencies are in microseconds. wrk counts a response with a status of 400 or more as a
-- "status" error; bench.py refuses a run that has any error.

done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
      .. '"socket_errors": %d, "status_errors": %d}\n',
    summary.requests,
    summary.duration,
    latency:percentile(50),
    latency:percentile(99),
    errors.connect + errors.read + errors.write + errors.timeout,
    errors.status
  ))
end
