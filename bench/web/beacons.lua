-- wrk script: POSTs the impression beacon for the URLs in $TOKENS. Thread k of n sends lines
-- k, k+n, k+2n, ... so no token is sent twice until the list is used up (then they repeat and
-- are answered as duplicates; load.sh prints the ledger's billable count to tell them apart).
local counter = 0

function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
end

local urls = {}
local index = 0
local step = 1

function init(args)
  for line in io.lines(os.getenv("TOKENS")) do urls[#urls + 1] = line end
  index = offset
  step = tonumber(os.getenv("WRK_THREADS") or "2")
end

function request()
  if #urls == 0 then return wrk.format("POST", "/api/v1/impression?t=none", nil, "") end
  local url = urls[(index % #urls) + 1]
  index = index + step
  -- An explicit empty body sends Content-Length: 0, as browsers' sendBeacon does (without it
  -- the server waits for a body until its read timeout).
  return wrk.format("POST", url, nil, "")
end
