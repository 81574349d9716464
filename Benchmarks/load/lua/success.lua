-- All successful logins: 20 real users from 65,536 client addresses.
dofile(os.getenv("LUA_DIR") .. "/common.lua")
math.randomseed(os.time())
request = function()
  return login("user" .. math.random(0, 19), "secret1", "10.1." .. math.random(0, 255) .. "." .. math.random(0, 255))
end
