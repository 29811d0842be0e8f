-- wrk script for `make bench`: the request comes from the environment, so one script serves
-- every endpoint, and done() prints the figures as one JSON line for the bench to read.
--   BENCH_METHOD (default GET), BENCH_TOKEN (bearer token), BENCH_CONTENT_TYPE, BENCH_BODY_FILE
wrk.method = os.getenv("BENCH_METHOD") or "GET"
local token = os.getenv("BENCH_TOKEN")
if token then
  wrk.headers["Authorization"] = "Bearer " .. token
end
local content_type = os.getenv("BENCH_CONTENT_TYPE")
if content_type then
  wrk.headers["Content-Type"] = content_type
end
local body_file = os.getenv("BENCH_BODY_FILE")
if body_file then
  local file = assert(io.open(body_file, "rb"))
  wrk.body = file:read("*a")
  file:close()
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,"non_2xx":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    errors.connect, errors.read, errors.write, errors.timeout, errors.status))
end
