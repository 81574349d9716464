import DefenderCore

/// What a health endpoint reports (`/healthz`).
public struct DefenderHealth: Sendable, Equatable {
    /// `ok`, or `degraded` while the shared store is unreachable.
    public var status: String
    /// `memory` or `redis`.
    public var store: String
    /// Whether logins are refused now (`closed` policy during an outage): answer 503.
    public var refusingLogins: Bool

    /// The health of an engine's store.
    public init(of engine: Defender) {
        let fallback = engine.store as? FallbackAttemptStore
        status = fallback?.isDegraded == true ? "degraded" : "ok"
        store = engine.configuration.effectiveStore.description
        refusingLogins = fallback?.isRefusingLogins ?? false
    }
}
