-- wrk script for bench/bench.py. Environment:
--   ORM_PATH     the request path (a read: ends in "key=k", the session's
--                number is appended)
--   ORM_COOKIES  a file of sessions, "NUMBER COOKIE" per line; with more
--                sessions than threads each thread takes its own share, so
--                one session has one cookie jar, as in a browser
--   ORM_VARY=1   append a counter to the path (a new value every request)
--   ORM_MIX=P    every request picks one of its thread's sessions at random
--                (per-thread RNG, seeded from ORM_SEED and the thread's
--                number) and P percent of requests write: ORM_WRITE_PATH
--                plus key and value; the others read (ORM_PATH)
--   ORM_UNIQUE=1 each write sets a key of its own, w<session>_<tag><thread>
--                _<n> (ORM_TAG tells concurrent wrk processes apart), so a
--                lost write can be found afterwards
--   ORM_ACKS     a file: the keys the server acknowledged ("set:KEY" in a
--                200 response), one per line, written when the run ends
--   ORM_JAR_OUT  a file: every session's cookie when the run ends
-- The session keys are named after the session's number (k12, w12_...):
-- the probe prints the key, so a response tells which session it was for
-- and a Set-Cookie replaces that session's cookie (mod_session_dbd gives a
-- changed session a new key; a browser follows it).
local path = os.getenv("ORM_PATH") or "/"
local vary = os.getenv("ORM_VARY") == "1"
local mix = tonumber(os.getenv("ORM_MIX") or "")
local write_path = os.getenv("ORM_WRITE_PATH") or path
local unique = os.getenv("ORM_UNIQUE") == "1"
local tag = os.getenv("ORM_TAG") or ""
local seed = tonumber(os.getenv("ORM_SEED") or "") or 1
local acks_file = os.getenv("ORM_ACKS")
local jar_file = os.getenv("ORM_JAR_OUT")
local cookie_name = os.getenv("ORM_COOKIE_NAME") or "session"

local all = {}                  -- {number, cookie} of every session
local file = os.getenv("ORM_COOKIES")
if file then
  for line in io.lines(file) do
    local n, c = string.match(line, "^(%d+) (.+)$")
    if n then all[#all + 1] = {tonumber(n), c} end
  end
end

local counter = 0
local thread_id = 0
local thread_count = 1
local threads = {}
local mine = {}                 -- this thread's session numbers
jar = {}                        -- session number -> Cookie value
acks = {}

function setup(thread)
  thread:set("thread_id", #threads)
  threads[#threads + 1] = thread
  for _, t in ipairs(threads) do t:set("thread_count", #threads) end
end

function init(args)
  math.randomseed(seed * 1000 + thread_id)
  for i, s in ipairs(all) do
    -- fewer sessions than threads (burst): every thread has them all
    if #all < thread_count or (i - 1) % thread_count == thread_id then
      mine[#mine + 1] = s[1]
      jar[s[1]] = s[2]
    end
  end
end

local function write_request(n)
  if unique then
    local key = "w" .. n .. "_" .. tag .. thread_id .. "_" .. counter
    return write_path .. "&key=" .. key .. "&value=" .. counter
  end
  return write_path .. n .. "&value=" .. tag .. thread_id .. "-" .. counter
end

function request()
  counter = counter + 1
  local headers = {}
  local p = path
  if #mine == 0 then
    if vary then p = p .. tag .. thread_id .. "-" .. counter end
    return wrk.format("GET", p, headers)
  end
  local n
  if mix then
    n = mine[math.random(#mine)]
    if math.random() * 100 < mix then p = write_request(n) else
      p = path .. n end
  else
    n = mine[(counter % #mine) + 1]
    if vary then p = write_request(n) else p = path .. n end
  end
  headers["Cookie"] = jar[n]
  return wrk.format("GET", p, headers)
end

-- the session a probe response was for: the number in its key
local function session_of(body)
  return tonumber(string.match(body, "\n[%a]*:?[kw](%d+)[_=\n]") or "")
end

function response(status, headers, body)
  if #mine == 0 then return end
  local n = session_of(body)
  local set = headers["Set-Cookie"]
  if n and set and jar[n] then
    local value = string.match(set, "^" .. cookie_name .. "=([^;]*)")
    if value and value ~= "" then jar[n] = cookie_name .. "=" .. value end
  end
  if acks_file and status == 200 then
    for key in string.gmatch(body, "set:(w%S+)") do acks[#acks + 1] = key end
  end
end

function done(summary, latency, requests)
  if acks_file then
    local f = assert(io.open(acks_file, "w"))
    for _, thread in ipairs(threads) do
      for _, key in ipairs(thread:get("acks")) do f:write(key, "\n") end
    end
    f:close()
  end
  if jar_file then
    local f = assert(io.open(jar_file, "w"))
    for _, thread in ipairs(threads) do
      for n, c in pairs(thread:get("jar")) do f:write(n, " ", c, "\n") end
    end
    f:close()
  end
end
