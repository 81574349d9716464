-- All successful JSON logins to /api/login (no session is written on either side): 20 real users from 65,536
-- client addresses. The success path with the least framework work around it.
dofile(os.getenv("LUA_DIR") .. "/common.lua")
math.randomseed(os.time() + 3)
request = function()
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-Forwarded-For"] = "10.2." .. math.random(0, 255) .. "." .. math.random(0, 255)
  return wrk.format(nil, "/api/login", nil, '{"username": "user' .. math.random(0, 19) .. '", "password": "secret1"}')
end
