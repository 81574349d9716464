import DefenderCore

/// What a health endpoint reports (`/healthz`).
public struct DefenderHealth: Sendable, Equatable {
    /// `ok`, or `degraded` while the shared store is unreachable.
    public var status: String
    /// `memory` or `redis`.
    public var store: String
    /// Whether logins are refused now (`closed` policy during an outage): answer 503.
    public var refusingLogins: Bool
    /// With Redis behind Sentinel or as a Cluster: `sentinel` or `cluster`; `external` on an app's own client
    /// (`RedisScriptExecutor`), whose topology is its own; `nil` for memory and a standalone Redis.
    public var topology: String?
    /// With Sentinel: the primary in use, `host:port` (`nil` while none is known).
    public var primary: String?
    /// With a Cluster: how many primaries serve slots in the map.
    public var primaries: Int?

    /// The health of an engine's store.
    public init(of engine: Defender) {
        let fallback = engine.store as? FallbackAttemptStore
        status = fallback?.isDegraded == true ? "degraded" : "ok"
        store = engine.configuration.effectiveStore.description
        refusingLogins = fallback?.isRefusingLogins ?? false
        if let reported = ((fallback?.primary ?? engine.store) as? any TopologyReporting)?.topology, reported.kind != "standalone" {
            topology = reported.kind
            primary = reported.primary
            primaries = reported.primaries
        }
    }
}
