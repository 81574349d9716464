import CoreMetrics
import Logging
import Synchronization

/// Wraps a shared store (Redis) with the outage policy: while it is unreachable, logins go on under
/// ``StoreFailurePolicy/fallback`` (this instance's memory store), ``StoreFailurePolicy/open`` (unprotected) or
/// ``StoreFailurePolicy/closed`` (refused with ``DefenderError/Code/storeUnavailable``, a 503).
///
/// Outages are ``DefenderError/Code/storeUnavailable`` errors: the server cannot be reached, or answers that it
/// cannot serve now (a primary demoted to a replica, a data set loading, memory full, a busy script). Faults
/// (``DefenderError/Code/storeFault``: a key of the wrong type, a script error) are logged at `error` — someone
/// must fix them — and take the same path, so that no login is answered with a 500.
///
/// A failure opens the circuit for ``retryInterval``: requests then skip the shared store instead of each
/// waiting for it; the first request after that tries it again, and a success of a step that adds data (an
/// admission, a failure, a block, an unlock e-mail) closes the circuit. No restart and no health probe are needed.
/// A success of a step that only reads or deletes proves nothing: a Redis whose memory is full (`OOM`) or that was
/// demoted to a replica (`READONLY`) still runs those, and taking one for the end of the outage would forget this
/// instance's counts every retry interval while admissions kept failing — an attacker's counter reset each second.
/// While the shared store still answers reads (memory full, a replica: `ReadableOutage`), an admission first asks
/// it whether the login is locked, so that a block another instance wrote there before the outage still refuses.
/// What was counted in memory during an outage is forgotten when the shared store is back (it is not copied
/// there): a later outage starts afresh instead of reviving blocks the shared store has since lifted.
public final class FallbackAttemptStore: AttemptStore {
    /// The shared store.
    public let primary: any AttemptStore
    /// This instance's store while the shared one is down.
    public let fallback: MemoryAttemptStore
    /// What happens during an outage.
    public let policy: StoreFailurePolicy
    /// How long the shared store is skipped after a failure.
    public let retryInterval: Duration
    /// Counts the shared store's failures and shows the fallback state (`defender_store_fallback`).
    public let metrics: DefenderMetrics?
    /// Where faults and the start and end of an outage are logged.
    public let logger: Logger
    private let openUntil = Mutex<ContinuousClock.Instant?>(nil)
    private let degraded = Atomic<Bool>(false)
    /// Whether the outage is one in which the shared store still answers reads (`ReadableOutage`).
    private let readable = Atomic<Bool>(false)
    /// When the shared store may next be asked whether it takes writes again (``WriteProbe``).
    private let nextProbe = Mutex<ContinuousClock.Instant?>(nil)

    /// Creates the wrapper.
    public init(
        primary: any AttemptStore, fallback: MemoryAttemptStore, policy: StoreFailurePolicy, retryInterval: Duration = .seconds(1),
        metrics: DefenderMetrics? = nil, logger: Logger = Logger(label: "defender.store")
    ) {
        self.metrics = metrics
        self.logger = logger
        self.primary = primary
        self.fallback = fallback
        self.policy = policy
        self.retryInterval = retryInterval
    }

    /// Whether the last attempt to reach the shared store failed (health reports `degraded`).
    public var isDegraded: Bool { degraded.load(ordering: .relaxed) }

    /// Whether logins are refused now (``StoreFailurePolicy/closed`` during an outage).
    public var isRefusingLogins: Bool { policy == .closed && isDegraded }

    public func check(ip: DefenderKey, username: DefenderKey?, policy: LockoutPolicy) async throws -> Lockout? {
        if let known = knownWhileSkipped(ip: ip, username: username, policy: policy) { return known }
        // `.some(nil)`: under `open` the answer is "not locked", not a failure.
        return try await perform(whenOpen: .some(nil)) { try await $0.check(ip: ip, username: username, policy: policy) }
    }

    public func admit(ip: DefenderKey, username: DefenderKey?, reservation: Reservation, policy: LockoutPolicy) async throws -> Admission {
        if let known = knownWhileSkipped(ip: ip, username: username, policy: policy) { return .locked(known) }
        // Only a slot reserved proves Redis writes again: a lockout may come from the shared store's cache of
        // blocks or from a read, without a write (ending the outage then would forget this instance's counts).
        return try await perform(
            whenOpen: .admitted, provesRecovery: { if case .locked = $0 { false } else { true } },
            whileReadable: { primary in try await primary.check(ip: ip, username: username, policy: policy).map { .locked($0) } }
        ) {
            try await $0.admit(ip: ip, username: username, reservation: reservation, policy: policy)
        }
    }

    public func release(ip: DefenderKey, username: DefenderKey?, reservation: Reservation) async throws {
        try await fallback.release(ip: ip, username: username, reservation: reservation)
        try await perform(whenOpen: ()) { try await $0.release(ip: ip, username: username, reservation: reservation) }
    }

    // A reservation taken in memory during an outage is released there even when the outcome is recorded in
    // the shared store, which may be back by then. Released after the count, never before: in between, another
    // request would see a free slot and a failure not yet counted.
    public func recordFailure(ip: DefenderKey, username: DefenderKey?, reservation: Reservation?, policy: LockoutPolicy) async throws -> FailureResult {
        let result = try await perform(whenOpen: FailureResult(lockout: nil, newlyBlocked: [], ipFailures: 0, usernameFailures: 0), provesRecovery: { _ in true }) {
            try await $0.recordFailure(ip: ip, username: username, reservation: reservation, policy: policy)
        }
        if let reservation { try await fallback.release(ip: ip, username: username, reservation: reservation) }
        return result
    }

    public func recordSuccess(ip: DefenderKey, username: DefenderKey?, reservation: Reservation?, policy: LockoutPolicy) async throws -> [DefenderKey] {
        let result = try await perform(whenOpen: []) {
            try await $0.recordSuccess(ip: ip, username: username, reservation: reservation, policy: policy)
        }
        if let reservation { try await fallback.release(ip: ip, username: username, reservation: reservation) }
        return result
    }

    // Operator actions and reports never pretend: during an outage they fail under every policy. A block kept in
    // this instance's memory would protect nothing on the others and vanish when the shared store is back (and a
    // command-line process's memory protects nothing at all); an unblock there would lift nothing; a list or a
    // key's state read from memory would say "not blocked" of what the shared store holds. The engine does not
    // trust a device cookie while it cannot read the username's state (see `Defender.trustDevice`).
    @discardableResult
    public func block(_ key: DefenderKey, for duration: Duration?) async throws -> Bool {
        (primary as? any KnownBlocks)?.forget(key)
        return try await perform(whenOpen: nil, fallsBack: false, provesRecovery: { _ in true }) { try await $0.block(key, for: duration) }
    }

    @discardableResult
    public func unblock(_ key: DefenderKey) async throws -> Bool {
        (primary as? any KnownBlocks)?.forget(key)
        return try await perform(whenOpen: nil, fallsBack: false) { try await $0.unblock(key) }
    }

    public func blocks(of kind: DefenderKey.Kind, after cursor: String?, limit: Int) async throws -> BlockPage {
        try await perform(whenOpen: nil, fallsBack: false) { try await $0.blocks(of: kind, after: cursor, limit: limit) }
    }

    public func state(of key: DefenderKey) async throws -> KeyState {
        try await perform(whenOpen: nil, fallsBack: false) { try await $0.state(of: key) }
    }

    // Unlock links: during an outage under `fallback` a link is recorded in (and redeemed from) this instance's
    // memory; under `open` and `closed` no e-mail goes out and no link is redeemed.
    public func recordUnlockMail(for username: DefenderKey, nonce: String, linkTTL: Duration, dailyLimit: Int) async throws -> Bool {
        try await perform(whenOpen: nil, provesRecovery: { _ in true }) {
            try await $0.recordUnlockMail(for: username, nonce: nonce, linkTTL: linkTTL, dailyLimit: dailyLimit)
        }
    }

    // This instance's memory knows only the links recorded in it during an outage. A link it does not know may
    // be pending in the shared store: answering "used" would be untrue, and would make its owner give up on a
    // link that works again once the shared store is back. So that is an outage (a 503, the link unused).
    public func redeemUnlockLink(for username: DefenderKey, nonce: String) async throws -> UnlockRedemption {
        try await perform(whenOpen: nil) { store in
            let redemption = try await store.redeemUnlockLink(for: username, nonce: nonce)
            if redemption == .notPending, (store as? MemoryAttemptStore) === fallback {
                throw DefenderError(.storeUnavailable, "the attempt store is unreachable; the unlock link may still be pending there")
            }
            return redemption
        }
    }

    /// The shared store serves again: logins go back to it.
    private func endOutage() {
        openUntil.withLock { $0 = nil }
        if degraded.exchange(false, ordering: .relaxed) {
            logger.notice("the shared attempt store is back")
            // What the outage counted here is not copied to the shared store, and must not come back in a
            // later outage after the shared store moved on (an operator's unblock, a success).
            fallback.forgetRecords()
        }
        readable.store(false, ordering: .relaxed)
        metrics?.fallback.record(0)
    }

    /// After a step that succeeded without proving the shared store takes writes (a lockout it answered from what
    /// it knows locally, a read, a deletion): asks it to write, at most once per retry interval, and ends the outage
    /// when it does. Without this, an outage in which only locked clients knock — answered from the cache of blocks —
    /// would never be seen to end.
    private func probeRecovery() async {
        guard let probe = primary as? any WriteProbe else { return }
        let retryInterval = self.retryInterval
        let due = nextProbe.withLock { next in
            let now = ContinuousClock.now
            if let next, now < next { return false }
            next = now + retryInterval
            return true
        }
        guard due, (try? await probe.probeWrites()) != nil else { return }
        endOutage()
    }

    /// Whether the shared store is being skipped (an outage, until the next retry).
    var isSkippingPrimary: Bool { openUntil.withLock { until in until.map { ContinuousClock.now < $0 } ?? false } }

    /// While the shared store is skipped (an outage), the blocks it is known to hold still lock: a known attacker
    /// stays blocked through the outage whatever the failure policy. (When it is not skipped, the store answers
    /// for its known blocks itself.)
    private func knownWhileSkipped(ip: DefenderKey, username: DefenderKey?, policy: LockoutPolicy) -> Lockout? {
        guard let known = primary as? any KnownBlocks, isSkippingPrimary else { return nil }
        return known.knownLockout(ip: ip, username: username, policy: policy)
    }

    /// Runs `operation` on the shared store, or applies the outage policy. `whenOpen` is what the `open`
    /// policy answers (`nil`: the operation fails instead).
    /// A call that fails because its caller was cancelled says nothing about the shared store: it is rethrown
    /// and opens no circuit (else one client that hangs up would send everyone to the fallback for a while).
    /// `fallsBack` false: the operation is never run on this instance's memory (the operator's actions and reports).
    /// `provesRecovery`: whether the operation's result shows it added data, so that its success shows the shared
    /// store serves again and ends the outage; the others (reads, deletions) run there when they can but leave the
    /// outage open.
    /// `whileReadable`: asked of the shared store before the failure policy applies, while it still answers reads
    /// (full, or a replica); an answer is final. It fails or answers `nil`: the policy applies.
    private func perform<T: Sendable>(
        whenOpen: T?, fallsBack: Bool = true, provesRecovery: (T) -> Bool = { _ in false },
        whileReadable: (any AttemptStore) async throws -> T? = { _ in nil }, _ operation: (any AttemptStore) async throws -> T
    ) async throws -> T {
        if !isSkippingPrimary {
            do {
                let result = try await operation(primary)
                if degraded.load(ordering: .relaxed) {
                    if provesRecovery(result) {
                        endOutage()
                    } else {
                        await probeRecovery()
                    }
                }
                return result
            } catch let error as DefenderError where (error.code == .storeUnavailable || error.code == .storeFault) && !Task.isCancelled {
                let retryInterval = self.retryInterval
                // Before the circuit opens: a request that sees it open must see what kind of outage it is.
                readable.store((error.underlying as? any ReadableOutage)?.storeStillReads ?? false, ordering: .releasing)
                openUntil.withLock { $0 = ContinuousClock.now + retryInterval }
                let wasDegraded = degraded.exchange(true, ordering: .relaxed)
                if error.code == .storeFault {
                    logger.error("the shared attempt store answered with an error; applying the failure policy", metadata: ["error": "\(error.message)"])
                } else if !wasDegraded {
                    logger.warning("the shared attempt store is unavailable; applying the failure policy", metadata: ["error": "\(error.message)"])
                }
                metrics?.errors.increment()
                metrics?.fallback.record(1)
            }
        }
        if readable.load(ordering: .acquiring) {
            do {
                if let answer = try await whileReadable(primary) { return answer }
            } catch let error as DefenderError where error.code == .storeUnavailable || error.code == .storeFault {
                // It stopped answering reads too: the next requests go straight to the policy.
                readable.store(false, ordering: .relaxed)
            }
        }
        guard fallsBack else {
            throw DefenderError(.storeUnavailable, "the shared attempt store is unreachable; nothing was changed or read, try again when it is back")
        }
        switch policy {
        case .fallback:
            return try await operation(fallback)
        case .open:
            if let whenOpen { return whenOpen }
            throw DefenderError(.storeUnavailable, "the attempt store is unreachable")
        default:
            throw DefenderError(.storeUnavailable, "the attempt store is unreachable; logins are refused (DEFENDER_STORE_FAILURE_POLICY=closed)")
        }
    }
}
