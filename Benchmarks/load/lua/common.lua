-- Shared by the scenarios: form POSTs to /login with X-Forwarded-For, and a JSON summary at the end.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

function login(user, password, ip)
  wrk.headers["X-Forwarded-For"] = ip
  return wrk.format(nil, "/login", nil, "username=" .. user .. "&password=" .. password)
end

function done(summary, latency, requests)
  local codes = {}
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"errors":%d,"non2xx3xx":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean))
end
