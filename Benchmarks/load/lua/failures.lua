-- An attack: wrong passwords for the 20 real users from 4 addresses, rotating both. Every address locks after its
-- 4th failure (16 password checks in all); after that a protected server answers the lockout without hashing.
dofile(os.getenv("LUA_DIR") .. "/common.lua")
math.randomseed(os.time() + 2)
request = function()
  return login("user" .. math.random(0, 19), "guess" .. math.random(0, 999), "203.0.113." .. math.random(1, 4))
end
