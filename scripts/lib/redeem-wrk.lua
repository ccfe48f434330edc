-- each wrk thread redeems a distinct slice of codes.txt
local codes = {}
-- codes are read in init from the file named by the third script argument
local counter = 0
function setup(thread) counter = counter + 1; thread:set("tid", counter) end
function init(args)
  local k, n = tonumber(args[1] or "1"), tonumber(args[2] or "1")
  for line in io.lines(args[3]) do codes[#codes+1] = line end
  stride = 2 * n
  i = (k - 1) * 2 + tid - 1
end
request = function()
  i = i + stride
  local c = codes[(i % #codes) + 1]
  return wrk.format("POST", "/api/tokens/validate", {["Content-Type"]="application/json"}, '{"code":"' .. c .. '"}')
end
