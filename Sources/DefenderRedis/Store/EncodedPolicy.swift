import DefenderCore

/// The constant arguments of a `LockoutPolicy` as the scripts receive them, formatted once per policy instead
/// of on every call (the engine passes the same policy to every call).
struct EncodedPolicy: Sendable {
    let disableIP: Bool
    let disableUsername: Bool
    let andMode: Bool
    let ipLimit: String
    let usernameLimit: String
    let attemptCooloffMS: String
    let historyMS: String
    let reset: String
    let ownReset: Bool
    let slotMS: String
    let sprayWindowMS: String
    let sprayLimit: String
    let sharedSprayLimit: String
    let cooloffsMS: String
    let longIPLimit: String
    let longUsernameLimit: String
    let longWindowMS: String

    init(_ policy: LockoutPolicy) {
        disableIP = policy.disableIPLockout
        disableUsername = policy.disableUsernameLockout
        andMode = policy.lockOutByIPAndUsername
        ipLimit = String(policy.ipLimit)
        usernameLimit = String(policy.usernameLimit)
        attemptCooloffMS = String(policy.attemptCooloff.milliseconds)
        historyMS = String(policy.historyWindow.milliseconds)
        reset = policy.successReset.description
        ownReset = policy.successReset == .own
        slotMS = String(max(1, policy.reservationTTL.milliseconds))
        sprayWindowMS = String(max(1, policy.sprayWindow.milliseconds))
        sprayLimit = String(policy.sprayLimit)
        sharedSprayLimit = String(policy.sharedSprayLimit)
        cooloffsMS = policy.lockoutCooloffs.map { String($0.milliseconds) }.joined(separator: ",")
        longIPLimit = String(policy.longWindowIPLimit)
        longUsernameLimit = String(policy.longWindowUsernameLimit)
        longWindowMS = String(max(1, policy.longWindow.milliseconds))
    }

    /// The spraying limit for requests whose IP dimension is `ip` (`LockoutPolicy.sprayLimit(for:)`).
    func sprayLimit(for ip: DefenderKey) -> String { ip.kind == .pair ? sharedSprayLimit : sprayLimit }
}

extension Duration {
    /// Whole milliseconds, rounded down; saturated at `Int64.max` (the engine refuses such durations before
    /// they get here, so this only keeps a mistake from trapping).
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        guard !overflow else { return seconds < 0 ? .min : .max }
        let (total, overflowAgain) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
        return overflowAgain ? .max : total
    }
}
