-- wrk script: POST /api/v1/tickets with a fresh client_msg_id each time
-- (a repeated one is an idempotent resend, not a creation).
-- usage: TOKEN=<customer access token> wrk -s http-adapter/bench/create_ticket.lua URL
-- (README, "REST API load test"); any status but 201 is printed to stderr.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
local n = 0
local run = tostring(os.time())
request = function()
  n = n + 1
  local body = string.format(
    '{"subject":"Load test ticket %d","body":"The app says my password is wrong.","client_msg_id":"wrk-%s-%d"}',
    n, run, n)
  return wrk.format(nil, "/api/v1/tickets", nil, body)
end
response = function(status)
  if status ~= 201 then
    io.stderr:write("unexpected status " .. status .. "\n")
  end
end
