import DefenderCore

extension RedisAttemptStore: LocalAddressLockouts {
    /// The address's block as the cache of known blocks has it: no round trip (a block the cache does not know is
    /// found by admission, as before).
    package func localLockout(ip: DefenderKey, policy: LockoutPolicy) async throws -> Lockout? {
        blockCache.lockout(ip: ip, username: nil, policy: policy)
    }
}
