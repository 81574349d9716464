-- An attack: wrong passwords for the 20 real users from 16 addresses, rotating both. Everything locks within
-- the first few hundred requests; after that a protected server answers the lockout without hashing.
dofile(os.getenv("LUA_DIR") .. "/common.lua")
math.randomseed(os.time() + 2)
request = function()
  return login("user" .. math.random(0, 19), "guess" .. math.random(0, 999), "203.0.113." .. math.random(1, 16))
end
