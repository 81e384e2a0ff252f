-- wrk script for bench/bench.py: ORM_PATH is the request path; ORM_COOKIES
-- names a file of Cookie header values, spread over the connections;
-- ORM_VARY=1 appends a counter to the path (a new value every request).
local path = os.getenv("ORM_PATH") or "/"
local vary = os.getenv("ORM_VARY") == "1"
local cookies = {}
local file = os.getenv("ORM_COOKIES")
if file then
  for line in io.lines(file) do
    if line ~= "" then cookies[#cookies + 1] = line end
  end
end

local counter = 0
local thread_id = 0
local threads = 0

function setup(thread)
  thread:set("thread_id", threads)
  threads = threads + 1
end

function request()
  counter = counter + 1
  local headers = {}
  if #cookies > 0 then
    headers["Cookie"] = cookies[((counter * 7 + thread_id) % #cookies) + 1]
  end
  local p = path
  if vary then p = p .. thread_id .. "-" .. counter end
  return wrk.format("GET", p, headers)
end
