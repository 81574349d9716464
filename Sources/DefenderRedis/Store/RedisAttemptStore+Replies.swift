import DefenderCore

// Reading the scripts' answers: the lockout they decided, their integers.
extension RedisAttemptStore {
    /// The lockout a script decided (`decide`'s ten values); the blocks it saw are remembered in the block cache,
    /// unless a block was lifted meanwhile (`stamp`, the cache's generation before the script was sent): the answer
    /// may predate the lift. A shared address's block is every-mode (the only kind that refuses its pairs).
    func lockout(from reply: RedisReply, ip: DefenderKey, username: DefenderKey?, stamp: Int) throws -> Lockout? {
        let values = try integers(reply, count: 10)
        guard values[0] == 1 else { return nil }
        let address = ip.pairAddress
        var seen: [ActiveBlock] = []
        for (key, ttl, everyMode) in [(address, values[9], 1), (ip, values[4], values[5]), (username, values[6], values[7])] {
            guard let key, ttl != -2 else { continue }
            seen.append(ActiveBlock(key: key, locksInEveryMode: everyMode == 1, remaining: ttl < 0 ? nil : .milliseconds(ttl)))
        }
        blockCache.learn(seen, since: stamp)
        var keys: [DefenderKey] = []
        if values[8] == 1, let address { keys.append(address) }
        if values[2] == 1 { keys.append(ip) }
        if values[3] == 1, let username { keys.append(username) }
        return Lockout(keys: keys, retryAfter: values[1] < 0 ? nil : .milliseconds(values[1]))
    }

    func integers(_ reply: RedisReply, count: Int) throws -> [Int64] {
        guard let values = reply.elements?.compactMap(\.int), values.count >= count else { throw malformed(reply) }
        return values
    }

    func malformed(_ reply: RedisReply) -> DefenderError {
        DefenderError(.storeFault, "unexpected reply from a Defender script: \(String(describing: reply).prefix(120))")
    }
}
