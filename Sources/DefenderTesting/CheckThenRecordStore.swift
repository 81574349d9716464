import DefenderCore

/// The baseline that race-free admission is measured against: django-defender's and django-axes' order,
/// where the lock check reserves nothing and the failure is counted after the password check. For tests only.
public struct CheckThenRecordStore: AttemptStore {
    let base: MemoryAttemptStore

    /// Wraps `base`, whose admission it replaces by a bare lock check that reserves nothing.
    public init(_ base: MemoryAttemptStore) { self.base = base }

    public func check(ip: DefenderKey, username: DefenderKey?, policy: LockoutPolicy) async throws -> Lockout? {
        try await base.check(ip: ip, username: username, policy: policy)
    }
    public func admit(ip: DefenderKey, username: DefenderKey?, reservation: Reservation, policy: LockoutPolicy) async throws -> Admission {
        try await base.check(ip: ip, username: username, policy: policy).map { .locked($0) } ?? .admitted
    }
    public func release(ip: DefenderKey, username: DefenderKey?, reservation: Reservation) async throws {}
    public func recordFailure(ip: DefenderKey, username: DefenderKey?, reservation: Reservation?, policy: LockoutPolicy) async throws -> FailureResult {
        try await base.recordFailure(ip: ip, username: username, reservation: nil, policy: policy)
    }
    public func recordSuccess(ip: DefenderKey, username: DefenderKey?, reservation: Reservation?, policy: LockoutPolicy) async throws -> [DefenderKey] {
        try await base.recordSuccess(ip: ip, username: username, reservation: nil, policy: policy)
    }
    public func block(_ key: DefenderKey, for duration: Duration?) async throws -> Bool { try await base.block(key, for: duration) }
    public func unblock(_ key: DefenderKey) async throws -> Bool { try await base.unblock(key) }
    public func blocks(of kind: DefenderKey.Kind, after cursor: String?, limit: Int) async throws -> BlockPage {
        try await base.blocks(of: kind, after: cursor, limit: limit)
    }
    public func state(of key: DefenderKey) async throws -> KeyState { try await base.state(of: key) }
    public func recordUnlockMail(for username: DefenderKey, nonce: String, linkTTL: Duration, dailyLimit: Int) async throws -> Bool {
        try await base.recordUnlockMail(for: username, nonce: nonce, linkTTL: linkTTL, dailyLimit: dailyLimit)
    }
    public func redeemUnlockLink(for username: DefenderKey, nonce: String) async throws -> UnlockRedemption {
        try await base.redeemUnlockLink(for: username, nonce: nonce)
    }
}
