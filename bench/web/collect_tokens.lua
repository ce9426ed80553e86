-- wrk script: after each search response, appends its impression URL to $TOKENS (one per line)
-- so that the beacon run can use each token once.
local path = os.getenv("TOKENS")
local out = nil

function response(status, headers, body)
  if status ~= 200 then return end
  local url = body:match('"impression_url":"([^"]+)"')
  if url then
    if out == nil then out = io.open(path, "a") end
    out:write(url, "\n")
    out:flush()
  end
end
