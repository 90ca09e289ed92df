-- wrk: POST one form again and again, each time a new one.
-- Arguments: the path, the Cookie header ("" for none) and the urlencoded body,
-- in which every {n} becomes a number no other request of the run sends.
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

local sent = 0
local path, cookie, body

function init(args)
  path, cookie, body = args[1], args[2], args[3]
end

function request()
  sent = sent + 1
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
  if cookie ~= "" then
    headers["Cookie"] = cookie
  end
  local filled = body:gsub("{n}", id .. "-" .. sent)
  return wrk.format("POST", path, headers, filled)
end
