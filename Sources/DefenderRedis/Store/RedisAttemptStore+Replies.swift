import DefenderCore

// Reading the scripts' answers: the lockout they decided, which key its IP side is, their integers.
extension RedisAttemptStore {
    /// The lockout a script decided; the blocks it saw are remembered in the block cache, unless a block was lifted
    /// meanwhile (`stamp`, the cache's generation before the script was sent): the answer may predate the lift.
    func lockout(from reply: RedisReply, ip: DefenderKey, username: DefenderKey?, stamp: Int) throws -> Lockout? {
        let values = try integers(reply, count: 8)
        guard values[0] == 1 else { return nil }
        var seen: [ActiveBlock] = []
        for (key, ttl, everyMode) in [(ip, values[4], values[5]), (username, values[6], values[7])] {
            guard let key, ttl != -2 else { continue }
            seen.append(ActiveBlock(key: key, locksInEveryMode: everyMode == 1, remaining: ttl < 0 ? nil : .milliseconds(ttl)))
        }
        blockCache.learn(seen, since: stamp)
        var keys: [DefenderKey] = []
        if values[2] == 1 { keys.append(ip) }
        if values[3] == 1, let username { keys.append(username) }
        return Lockout(keys: keys, retryAfter: values[1] < 0 ? nil : .milliseconds(values[1]))
    }

    /// The key whose block a check's answer reports on the IP side: the shared address when the value at `index`
    /// says so (its block refuses the pair), else the IP dimension's own key.
    func ipSide(_ ip: DefenderKey, _ reply: RedisReply, at index: Int) throws -> DefenderKey {
        guard let address = ip.pairAddress else { return ip }
        let values = try integers(reply, count: 4)
        return values.count > index && values[index] == 1 ? address : ip
    }

    func integers(_ reply: RedisReply, count: Int) throws -> [Int64] {
        guard let values = reply.elements?.compactMap(\.int), values.count >= count else { throw malformed(reply) }
        return values
    }

    func malformed(_ reply: RedisReply) -> DefenderError {
        DefenderError(.storeFault, "unexpected reply from a Defender script: \(String(describing: reply).prefix(120))")
    }
}
