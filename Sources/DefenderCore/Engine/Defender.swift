import CoreMetrics
import Logging
import Synchronization
import Tracing

/// The brute-force protection engine: checks logins before the password check and records their outcome.
///
/// ```swift
/// let defender = Defender(configuration: config)
/// switch try await defender.check(ip: client, username: submitted) {  // admits: reserves a slot
/// case .locked(let lockout): // answer with the lockout response; do not check the password
/// case .allowed(let attempt):
///     if passwordIsRight { try await defender.recordSuccess(attempt) }
///     else if let lockout = try await defender.recordFailure(attempt) { /* lockout response */ }
///     // or, if neither can be said (an error): try await defender.release(attempt)
/// }
/// ```
public final class Defender: Sendable {
    /// The settings in force.
    public let configuration: DefenderConfiguration
    /// The rules handed to the store.
    public let policy: LockoutPolicy
    /// Where attempts are counted.
    public let store: any AttemptStore
    /// Block and unblock notifications.
    public let events: DefenderEventBus
    /// Finds the client address of a request.
    public let resolver: ClientIPResolver
    /// The audit log, when ``DefenderConfiguration/storeAccessAttempts`` is on.
    public let accessLog: (any AccessAttemptLog)?
    /// The allow and deny lists.
    public let accessLists: AccessLists
    /// The shared ranges, whose clients are counted by (address, username) pair.
    public let sharedRanges: SharedAddressRanges
    /// What the engine counts.
    public let metrics: DefenderMetrics
    /// Device cookies, when ``DefenderConfiguration/secretKeys`` is set: the HTTP layer reads and sets them, and
    /// ``check(ip:username:deviceCookieValues:context:)`` trusts a valid one.
    public let deviceCookies: DeviceCookies?
    /// Unlock links, when ``DefenderConfiguration/secretKeys`` is set (see ``redeemUnlockToken(_:)``).
    public let unlockLinks: UnlockLinks?
    /// The rules for a trusted client's attempt (``LockoutPolicy/trustingDevice(limit:)``).
    let trustedPolicy: LockoutPolicy
    /// Where lockouts, refusals and dry-run verdicts are logged (redacted unless ``DefenderConfiguration/redactLogs`` is off).
    public let logger: Logger
    /// Where the `defender.*` spans go (children of the task's current span); `nil`: tracing is off.
    let tracer: (any Tracer)?
    /// The routes `reportLoginWithoutUsername(route:source:)` reported: one warning each, 64 at most.
    let routesWithoutUsername = Mutex<Set<String>>([])
    /// The log lines a client can cause once per request, each capped (the metrics count every occurrence).
    let deniedLines = LogBudget(), dryRunLines = LogBudget(), admissionTimeoutLines = LogBudget()
    /// An unlock link posted while the store cannot redeem it (its holder may post it again and again).
    package let unlockFailureLines = LogBudget()

    /// Creates an engine.
    /// - Parameters:
    ///   - configuration: validated settings.
    ///   - store: the store; by default an in-memory store of ``DefenderConfiguration/memoryMaxEntries``.
    ///   - events: the bus that delivers block and unblock events.
    ///   - accessLog: receives every recorded attempt (unless ``DefenderConfiguration/storeAccessAttempts`` is off).
    ///   - metrics: the metrics to record; by default through the process-wide `MetricsSystem`.
    ///   - logger: Defender's log lines.
    ///   - tracer: where spans go; by default `InstrumentationSystem.tracer` (no spans until one is bootstrapped).
    public init(
        configuration: DefenderConfiguration, store: (any AttemptStore)? = nil, events: DefenderEventBus = DefenderEventBus(),
        accessLog: (any AccessAttemptLog)? = nil, metrics: DefenderMetrics = DefenderMetrics(),
        logger: Logger = Logger(label: "defender"), tracer: (any Tracer)? = nil
    ) {
        self.configuration = configuration
        self.policy = LockoutPolicy(configuration)
        self.deviceCookies = DeviceCookies(configuration: configuration)
        self.unlockLinks = UnlockLinks(configuration: configuration)
        self.trustedPolicy = policy.trustingDevice(limit: configuration.deviceFailureLimit)
        self.store = store ?? MemoryAttemptStore(capacity: configuration.memoryMaxEntries)
        self.events = events
        self.resolver = ClientIPResolver(configuration: configuration)
        self.accessLog = configuration.storeAccessAttempts ? accessLog : nil
        self.accessLists = AccessLists(configuration: configuration)
        self.sharedRanges = SharedAddressRanges(configuration: configuration)
        self.metrics = metrics
        self.logger = logger
        let chosen = tracer ?? InstrumentationSystem.tracer
        // The no-op tracer still builds a span value per call: skip it altogether.
        self.tracer = chosen is NoOpTracer ? nil : chosen
    }

    /// The result of checking a login before its password is checked.
    public enum Check: Sendable, Hashable {
        /// Go ahead: check the password, then record the outcome with this attempt (or release it).
        case allowed(LoginAttempt)
        /// Refuse without checking the password; nothing is counted.
        case locked(Lockout)
    }

    /// Admits a login before its password is checked: one atomic store step that refuses a locked request or
    /// reserves an in-flight slot on its IP and username.
    ///
    /// When checks already in flight on the same key could lock this request, it waits (polling the store with
    /// a short backoff) until they are recorded and then sees the new state, so concurrent requests never get
    /// more password checks than the same requests one after another would.
    /// Every `.allowed` attempt must end in ``recordFailure(_:)``, ``recordSuccess(_:)`` or ``release(_:)``;
    /// a slot that is never given back lapses after ``DefenderConfiguration/reservationTTL``.
    /// - Parameters:
    ///   - ip: the client, from ``resolver``.
    ///   - username: the submitted username, as typed (it is normalised here); `nil` or empty when there is none.
    ///   - context: the request's details for the audit log.
    /// - Throws: ``DefenderError`` with ``DefenderError/Code/admissionTimeout`` after waiting
    ///   ``DefenderConfiguration/admissionTimeout``; `CancellationError` when the task is cancelled while waiting.
    public func check(ip: ClientAddress, username: String?, context: AttemptContext? = nil) async throws -> Check {
        try await check(ip: ip, username: username, deviceCookieValues: [], context: context)
    }

    /// Admits a login as ``check(ip:username:context:)`` does, trusting the client when one of
    /// `deviceCookieValues` is a valid device cookie for the username whose device is not locked (see
    /// ``DeviceCookies``): the username's lockout does not refuse it, and the attempt counts on its device
    /// (``LoginAttempt/deviceKey``) instead of the username. A locked device is judged like any other client.
    /// - Parameters:
    ///   - ip: the client, from ``resolver``.
    ///   - username: the submitted username, as typed.
    ///   - deviceCookieValues: the values of the device cookie the request carries (``DeviceCookies/values(inCookieFields:)``).
    ///   - context: the request's details for the audit log.
    public func check(ip: ClientAddress, username: String?, deviceCookieValues: [String], context: AttemptContext? = nil) async throws -> Check {
        try await traced("defender.check", { try await admit(ip: ip, username: username, deviceCookieValues: deviceCookieValues, context: context) }) { check, span in
            switch check {
            case .allowed(let attempt): span.attributes["defender.outcome"] = attempt.isExempt ? "allowlisted" : "admitted"
            case .locked(let lockout): span.attributes["defender.outcome"] = lockout.reason == .denylisted ? "denied" : "locked"
            }
        }
    }

    private func admit(ip: ClientAddress, username: String?, deviceCookieValues: [String], context: AttemptContext?) async throws -> Check {
        var attempt = self.attempt(ip: ip, username: username, context: context)
        switch accessLists.decision(ip: ip.address, username: attempt.usernameKey) {
        case .denied:
            return .locked(denied(attempt))
        case .allowed:
            metrics.allowlisted.increment()
            attempt.isExempt = true
            return .allowed(attempt)
        case .unlisted:
            break
        }
        try await trustDevice(of: &attempt, cookieValues: deviceCookieValues)
        if configuration.dryRun {
            // Counted as usual when recorded; never refused, so nothing to reserve or wait for.
            if try await storeLockout(of: &attempt) != nil { wouldLock(attempt) }
            return .allowed(attempt)
        }
        let reservation = Reservation()
        var deadline: ContinuousClock.Instant?
        var pause = Duration.milliseconds(1)
        while true {
            let admission = try await metrics.time(metrics.storeAdmit) {
                try await store.admit(ip: attempt.ipKey, username: attempt.countedUsernameKey, reservation: reservation, policy: policy(for: attempt))
            }
            switch admission {
            case .admitted:
                // A caller that gave up while its admission was out gets no slot: it is given back here, where
                // nobody else would (the store ran the admission to the end; see `AttemptStore.admit`).
                if Task.isCancelled {
                    let (ip, username) = (attempt.ipKey, attempt.countedUsernameKey)
                    try? await shielded { try await self.store.release(ip: ip, username: username, reservation: reservation) }
                    throw CancellationError()
                }
                attempt.reservation = reservation
                if let deadline {
                    metrics.admissionWaits.increment()
                    let waited = ContinuousClock.now - (deadline - configuration.admissionTimeout)
                    metrics.admissionWait.recordNanoseconds(DefenderMetrics.nanoseconds(waited))
                }
                return .allowed(attempt)
            case .locked(let lockout):
                // A locked device is judged like any other client: admitted again on the username.
                if distrustLockedDevice(of: &attempt, lockout) { continue }
                metrics.refused.increment()
                return .locked(lockout)
            case .busy:
                let now = ContinuousClock.now
                let end = deadline ?? now + configuration.admissionTimeout
                deadline = end
                guard now < end else {
                    metrics.admissionTimeout.increment()
                    log(.warning, "login waited too long for checks in flight on its address or username", attempt, budget: admissionTimeoutLines)
                    throw DefenderError(.admissionTimeout, "too many logins for this address or username are being checked at once; try again in a moment")
                }
                // Jitter spreads the retries of requests that started together.
                let jittered = pause * Double.random(in: 0.5...1.0)
                try await Task.sleep(for: min(jittered, end - now))
                pause = min(pause * 2, .milliseconds(50))
            }
        }
    }

    /// Records a failed login and releases its reservation.
    /// - Returns: the lockout when this failure crossed a limit (the request gets the lockout response), else `nil`.
    @discardableResult
    public func recordFailure(_ attempt: LoginAttempt) async throws -> Lockout? {
        try await recordFailureDetails(attempt).lockout
    }

    /// Records a failed login like ``recordFailure(_:)`` and returns the counters after it (for `RateLimit`
    /// headers). An allow-listed attempt is only logged: its result counts nothing.
    public func recordFailureDetails(_ attempt: LoginAttempt) async throws -> FailureResult {
        try await traced("defender.record_failure", { try await countFailure(attempt) }) { result, span in
            span.attributes["defender.locked_out"] = result.lockout != nil
            span.attributes["defender.new_blocks"] = result.newlyBlocked.count
        }
    }

    private func countFailure(_ attempt: LoginAttempt) async throws -> FailureResult {
        metrics.failure.increment()
        guard !attempt.isExempt else {
            await accessLog?.record(AccessAttemptRecord(attempt, valid: false))
            return FailureResult(lockout: nil, newlyBlocked: [], ipFailures: 0, usernameFailures: 0)
        }
        let (store, policy, metrics) = (self.store, self.policy(for: attempt), self.metrics)
        var result = try await shielded {
            try await metrics.time(metrics.storeRecordFailure) {
                try await store.recordFailure(ip: attempt.ipKey, username: attempt.countedUsernameKey, reservation: attempt.reservation, policy: policy)
            }
        }
        for key in result.newlyBlocked {
            let (kind, counter) = metrics.lockout(of: key, in: result, policy: policy, ipKey: attempt.ipKey)
            events.emit(DefenderEvent(key: key, blocked: true), cause: DefenderEvent.Cause(lockoutKind: kind))
            counter.increment()
            logger.notice(
                "blocked after failed logins",
                metadata: ["kind": "\(kind)", "key": shown(key.value), "dry_run": "\(configuration.dryRun)"])
        }
        await accessLog?.record(AccessAttemptRecord(attempt, valid: false))
        if result.lockout != nil, configuration.dryRun {
            wouldLock(attempt)
            result.lockout = nil
        }
        return result
    }

    /// Records a successful login, clearing what ``DefenderConfiguration/successReset`` says, and releases its
    /// reservation.
    public func recordSuccess(_ attempt: LoginAttempt) async throws {
        try await traced("defender.record_success", { try await countSuccess(attempt) })
    }

    private func countSuccess(_ attempt: LoginAttempt) async throws {
        metrics.success.increment()
        guard !attempt.isExempt else {
            await accessLog?.record(AccessAttemptRecord(attempt, valid: true))
            return
        }
        let (store, policy, metrics) = (self.store, self.policy(for: attempt), self.metrics)
        let unblocked = try await shielded {
            try await metrics.time(metrics.storeRecordSuccess) {
                try await store.recordSuccess(ip: attempt.ipKey, username: attempt.countedUsernameKey, reservation: attempt.reservation, policy: policy)
            }
        }
        for key in unblocked { events.emit(DefenderEvent(key: key, blocked: false)) }
        if attempt.deviceKey != nil { noteTrustedSuccess(attempt) }
        await accessLog?.record(AccessAttemptRecord(attempt, valid: true))
    }

    /// Gives back the slots of an admitted login whose outcome will not be recorded (its handler failed for
    /// a reason that is not a wrong password, or it was cancelled).
    public func release(_ attempt: LoginAttempt) async throws {
        guard let reservation = attempt.reservation else { return }
        let store = self.store
        // Releases happen mostly in tasks being torn down: always off the caller's cancellation.
        try await shielded { try await store.release(ip: attempt.ipKey, username: attempt.countedUsernameKey, reservation: reservation) }
    }
}
