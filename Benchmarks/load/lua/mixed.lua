-- About half wrong: real users log in, and failures come for 100,000 other names from 65,536 addresses, so that
-- few keys reach a limit: the cost of counting, not of lockouts.
dofile(os.getenv("LUA_DIR") .. "/common.lua")
math.randomseed(os.time() + 1)
request = function()
  local ip = "10.2." .. math.random(0, 255) .. "." .. math.random(0, 255)
  if math.random() < 0.5 then return login("user" .. math.random(0, 19), "secret1", ip) end
  return login("ghost" .. math.random(0, 99999), "wrong", ip)
end
