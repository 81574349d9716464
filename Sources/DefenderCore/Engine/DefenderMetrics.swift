import CoreMetrics
import Metrics

/// What the engine counts, through swift-metrics (Prometheus names; see the README's metrics table).
///
/// Each metric is created once, so recording costs one handler call. Pass a factory (such as swift-prometheus'
/// `PrometheusMetricsFactory`) to keep an application's metrics apart, or leave the default: the process-wide
/// `MetricsSystem` (a no-op until bootstrapped).
public struct DefenderMetrics: Sendable {
    let success, failure, refused, denied, admissionTimeout: Counter
    let allowlisted, dryRunLockouts, admissionWaits, successWithoutUsername: Counter
    let lockoutIP, lockoutUsername, lockoutSpray, lockoutLongWindow, lockoutPair, lockoutDevice: Counter
    let trustedLoginsDuringLockout: Counter
    let admissionWait: Timer
    let storeAdmit, storeRecordFailure, storeRecordSuccess, storeCheck: Timer
    /// `defender_store_errors_total`: store calls that failed (the fallback store counts its shared store's).
    public let errors: Counter
    /// `defender_store_fallback`: 1 while a shared store is unreachable and the memory fallback (or the outage
    /// policy) is in force.
    public let fallback: Gauge
    /// `defender_redis_primaries`: the Redis primaries in use (1 standalone or with Sentinel once the primary is
    /// known, 0 before; with a Cluster, the primaries that serve slots).
    public let redisPrimaries: Gauge
    /// `defender_redis_primary_changes_total`: failovers followed (Sentinel) and slot moves followed (Cluster `MOVED`).
    public let redisPrimaryChanges: Counter
    /// Unlock e-mails and links.
    public let unlock: UnlockMetrics

    /// Creates every metric with `factory`.
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        func logins(_ outcome: String) -> Counter {
            Counter(label: "defender_logins_total", dimensions: [("outcome", outcome)], factory: factory)
        }
        func lockouts(_ kind: String) -> Counter {
            Counter(label: "defender_lockouts_total", dimensions: [("kind", kind)], factory: factory)
        }
        func store(_ operation: String) -> Timer {
            Timer(label: "defender_store_duration_seconds", dimensions: [("operation", operation)], factory: factory)
        }
        success = logins("success")
        failure = logins("failure")
        refused = logins("locked")
        denied = logins("denied")
        admissionTimeout = logins("admission_timeout")
        allowlisted = Counter(label: "defender_allowlisted_total", factory: factory)
        dryRunLockouts = Counter(label: "defender_dry_run_lockouts_total", factory: factory)
        admissionWaits = Counter(label: "defender_admission_waits_total", factory: factory)
        successWithoutUsername = Counter(label: "defender_logins_without_username_total", factory: factory)
        lockoutIP = lockouts("ip")
        lockoutUsername = lockouts("username")
        lockoutSpray = lockouts("spray")
        lockoutLongWindow = lockouts("long_window")
        lockoutPair = lockouts("pair")
        lockoutDevice = lockouts("device")
        trustedLoginsDuringLockout = Counter(label: "defender_trusted_logins_during_lockout_total", factory: factory)
        unlock = UnlockMetrics(factory: factory)
        admissionWait = Timer(label: "defender_admission_wait_duration_seconds", factory: factory)
        storeAdmit = store("admit")
        storeRecordFailure = store("record_failure")
        storeRecordSuccess = store("record_success")
        storeCheck = store("check")
        errors = Counter(label: "defender_store_errors_total", factory: factory)
        fallback = Gauge(label: "defender_store_fallback", factory: factory)
        redisPrimaries = Gauge(label: "defender_redis_primaries", factory: factory)
        redisPrimaryChanges = Counter(label: "defender_redis_primary_changes_total", factory: factory)
    }

    /// Records what the Redis client knows of its servers (`redisPrimaries`, `redisPrimaryChanges`).
    package func recordRedisTopology(primaries: Int, newChanges: Int) {
        redisPrimaries.record(primaries)
        if newChanges > 0 { redisPrimaryChanges.increment(by: newChanges) }
    }

    /// Times one store call, counting it as an error when it throws.
    @inline(__always)
    func time<T>(_ timer: Timer, _ operation: () async throws -> T) async throws -> T {
        let start = ContinuousClock.now
        do {
            let result = try await operation()
            timer.recordNanoseconds(Self.nanoseconds(ContinuousClock.now - start))
            return result
        } catch {
            errors.increment()
            throw error
        }
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

extension DefenderMetrics {
    /// Why a key of `result` became blocked, for the log line and `defender_lockouts_total{kind}`: the long window
    /// (its counter was within its limit), a shared address's pair (`pair`), password spraying (an address blocked
    /// while the request counted a pair, or an IP whose counter was within its limit, or that does not count), or
    /// its counter (`ip`, `username`).
    func lockout(of key: DefenderKey, in result: FailureResult, policy: LockoutPolicy, ipKey: DefenderKey) -> (kind: String, counter: Counter) {
        if result.longWindowBlocked.contains(key) { return ("long_window", lockoutLongWindow) }
        switch key.kind {
        case .pair: return ("pair", lockoutPair)
        case .username: return ("username", lockoutUsername)
        case .device: return ("device", lockoutDevice)
        case .ip:
            if ipKey.kind == .pair { return ("spray", lockoutSpray) }
            if policy.sprayLimit > 0, policy.disableIPLockout || result.ipFailures <= policy.ipLimit { return ("spray", lockoutSpray) }
            return ("ip", lockoutIP)
        }
    }
}

extension DefenderEvent.Cause {
    /// The cause of a lockout of `kind`, as ``DefenderMetrics`` names it (`ip`, `username` and `pair` are counters).
    init(lockoutKind kind: String) {
        self = Self(rawValue: kind) ?? .counter
    }
}
