/// Where failures, blocks and lockout history live.
///
/// The `ip` of a call is the request's IP dimension: the client's address key, or, for a client in a shared range,
/// a ``DefenderKey/Kind/pair`` key. A pair counts with the IP limits; beside it, the shared address itself
/// (``DefenderKey/pairAddress``) still refuses the request while it is blocked (an operator's block, spraying), and
/// distinct usernames failing from it count for spraying with ``LockoutPolicy/sharedSprayLimit``.
///
/// Each call is one atomic step (one critical section in memory, one script in Redis), and applies the
/// sequential rules of django-defender given by ``LockoutPolicy``, so that the engine never reads and then
/// writes in two steps.
public protocol AttemptStore: Sendable {
    /// Whether a login for `ip` and `username` is locked now; reserves nothing (django-defender's
    /// `is_already_locked`).
    /// - Returns: `nil` when the request may be checked, or the lockout that refuses it.
    func check(ip: DefenderKey, username: DefenderKey?, policy: LockoutPolicy) async throws -> Lockout?

    /// Admission, in one atomic step: refuses a locked request, or reserves an in-flight slot on each key
    /// that can lock (`reservation`, held until ``LockoutPolicy/reservationTTL`` at most), or answers
    /// ``Admission/busy`` when the checks already in flight could, by failing, lock this request.
    ///
    /// A key with `c` live failures, `n` slots in flight and limit `L` counts as blocked for this decision when
    /// it is blocked, or when `n > 0` and `c + n > L`: so no key ever sees more password checks than the
    /// sequential rules allow, however many requests arrive at once.
    ///
    /// A store whose step can be interrupted after the server has reserved (a network store) runs it to its end
    /// whatever the caller's cancellation, and answers: the engine gives back the slot of a cancelled caller.
    func admit(ip: DefenderKey, username: DefenderKey?, reservation: Reservation, policy: LockoutPolicy) async throws -> Admission

    /// Gives back the slots of an admitted request whose outcome will not be recorded (the handler threw,
    /// the task was cancelled). Unknown or expired reservations are ignored.
    func release(ip: DefenderKey, username: DefenderKey?, reservation: Reservation) async throws

    /// Counts a failed login, blocks whatever crossed its limit, and releases `reservation`, in one step.
    func recordFailure(ip: DefenderKey, username: DefenderKey?, reservation: Reservation?, policy: LockoutPolicy) async throws -> FailureResult

    /// Applies a successful login (clears what ``LockoutPolicy/successReset`` says) and releases
    /// `reservation`, in one step. An operator's block and a spray block stay: a success lifts only the
    /// automatic blocks failures caused (it meets another only when admitted before it landed, or in a dry run).
    /// - Returns: the keys whose block this lifted.
    func recordSuccess(ip: DefenderKey, username: DefenderKey?, reservation: Reservation?, policy: LockoutPolicy) async throws -> [DefenderKey]

    /// Blocks a key by hand; `duration` `nil` blocks until ``unblock(_:)``.
    /// - Returns: `true` when the key was not blocked before.
    @discardableResult
    func block(_ key: DefenderKey, for duration: Duration?) async throws -> Bool

    /// Clears a key's counter and block (not its lockout history).
    /// - Returns: `true` when the key was blocked.
    @discardableResult
    func unblock(_ key: DefenderKey) async throws -> Bool

    /// Active blocks of one kind, ordered by key, `limit` at a time after `cursor`.
    func blocks(of kind: DefenderKey.Kind, after cursor: String?, limit: Int) async throws -> BlockPage

    /// Everything the store knows about a key.
    func state(of key: DefenderKey) async throws -> KeyState

    /// Records an unlock e-mail about to be sent for `username` (see ``UnlockMailService``): counts it against
    /// `dailyLimit` (in a day from the first one counted) and adds `nonce` to the username's pending unlock links
    /// for `linkTTL`. Earlier links stay pending until they expire or one of them is redeemed (at most
    /// ``UnlockLinks/maximumPending``, the oldest dropped first): an e-mail whose sending fails must not take
    /// away the link already in the owner's inbox.
    /// - Returns: `false`, recording nothing, when the username had `dailyLimit` e-mails within the day.
    func recordUnlockMail(for username: DefenderKey, nonce: String, linkTTL: Duration, dailyLimit: Int) async throws -> Bool

    /// Redeems `username`'s pending unlock link, in one atomic step: while an operator has blocked the username,
    /// nothing changes (``UnlockRedemption/blockedByOperator``); otherwise, when `nonce` is a pending link that has
    /// not expired, every pending link of the username is consumed and its block, failure counter and spray record are lifted
    /// as ``unblock(_:)`` lifts them (``UnlockRedemption/redeemed(wasBlocked:)``). One step, so that of any number
    /// of concurrent calls with the username's nonces at most one redeems, ever; an operator's block landing at the same
    /// moment is never lifted; and no crash can leave the link used with the lock in place.
    func redeemUnlockLink(for username: DefenderKey, nonce: String) async throws -> UnlockRedemption
}

extension AttemptStore {
    /// Counts a failed login that holds no reservation.
    public func recordFailure(ip: DefenderKey, username: DefenderKey?, policy: LockoutPolicy) async throws -> FailureResult {
        try await recordFailure(ip: ip, username: username, reservation: nil, policy: policy)
    }

    /// Applies a successful login that holds no reservation.
    public func recordSuccess(ip: DefenderKey, username: DefenderKey?, policy: LockoutPolicy) async throws -> [DefenderKey] {
        try await recordSuccess(ip: ip, username: username, reservation: nil, policy: policy)
    }
}

/// The answer of ``AttemptStore/admit(ip:username:reservation:policy:)``.
public enum Admission: Sendable, Hashable {
    /// Go ahead: the reservation holds a slot on each key that can lock.
    case admitted
    /// Refused without a password check.
    case locked(Lockout)
    /// Checks in flight could lock this request; ask again when they have finished.
    case busy
}

/// An admitted request's claim on in-flight slots, released when its outcome is recorded.
public struct Reservation: Sendable, Hashable, CustomStringConvertible {
    /// A random number, unique across instances in practice.
    public let value: UInt64

    /// A new random reservation.
    public init() {
        var generator = SystemRandomNumberGenerator()
        value = generator.next()
    }

    /// A reservation with a known value (for tests that replay a sequence).
    package init(value: UInt64) { self.value = value }

    /// The value as 16 hex digits: the member name of a shared store's slot.
    public var id: String { withUnsafeBytes(of: value.bigEndian) { $0.hexEncoded } }

    public var description: String { id }
}

/// The rules a store applies, derived once from ``DefenderConfiguration``.
///
/// Read-only: a policy is what its configuration says, so change the ``DefenderConfiguration`` instead.
public struct LockoutPolicy: Sendable, Hashable {
    /// Failures an IP may have before it is blocked (``DefenderConfiguration/ipFailureLimit``).
    public private(set) var ipLimit: Int
    /// Failures a username may have before it is blocked (``DefenderConfiguration/usernameFailureLimit``).
    public private(set) var usernameLimit: Int
    /// Lock only when both the IP and the username are blocked (`LOCKOUT_BY_IP_USERNAME`).
    public private(set) var lockOutByIPAndUsername: Bool
    /// Never lock by IP (`DISABLE_IP_LOCKOUT`).
    public private(set) var disableIPLockout: Bool
    /// Never lock by username (`DISABLE_USERNAME_LOCKOUT`).
    public private(set) var disableUsernameLockout: Bool
    /// Failure counters live this long after the last failure; zero: forever.
    public private(set) var attemptCooloff: Duration
    /// Block lengths by lockout number; zero: until unblocked.
    public private(set) var lockoutCooloffs: [Duration]
    /// How long a lockout is remembered for escalation.
    public private(set) var historyWindow: Duration
    /// What a successful login clears (`DEFENDER_SUCCESS_RESET`).
    public private(set) var successReset: SuccessReset
    /// How long an admission slot is held at most, so that a crashed instance cannot hold one for ever.
    public private(set) var reservationTTL: Duration
    /// Up to this much random time is added to each automatic block.
    public private(set) var lockoutJitter: Duration
    /// Distinct failed usernames an IP may have within ``sprayWindow`` before it is blocked; zero: off.
    public private(set) var sprayLimit: Int
    /// How long a failed username counts for ``sprayLimit``.
    public private(set) var sprayWindow: Duration
    /// Distinct failed usernames a shared address may have within ``sprayWindow`` before the address is blocked;
    /// zero: off (``DefenderConfiguration/sharedSprayUsernameLimit``).
    public private(set) var sharedSprayLimit: Int
    /// Failures an IP may have within ``longWindow`` before it is blocked; zero: off. Never below ``ipLimit``, so
    /// that the long window never locks sooner than the counter would within one cool-off; off when ``ipLimit``
    /// is above ``DefenderConfiguration/maximumLongWindowLimit``, so that a window stays bounded.
    public private(set) var longWindowIPLimit: Int
    /// The same for a username; never below ``usernameLimit``.
    public private(set) var longWindowUsernameLimit: Int
    /// How far back the long-window limits count (``DefenderConfiguration/longWindow``).
    public private(set) var longWindow: Duration

    /// The rules of a configuration.
    public init(_ configuration: DefenderConfiguration) {
        ipLimit = configuration.ipFailureLimit
        usernameLimit = configuration.usernameFailureLimit
        lockOutByIPAndUsername = configuration.lockOutByIPAndUsername
        disableIPLockout = configuration.disableIPLockout
        disableUsernameLockout = configuration.disableUsernameLockout
        attemptCooloff = configuration.effectiveAttemptCooloff
        if let cap = configuration.lockoutCooloffMax {
            // With a cap nothing automatic is permanent: a zero (forever) step becomes the cap too.
            lockoutCooloffs = configuration.effectiveLockoutCooloffs.map { $0 == .zero || $0 > cap ? cap : $0 }
        } else {
            lockoutCooloffs = configuration.effectiveLockoutCooloffs
        }
        lockoutJitter = configuration.lockoutJitter
        sprayLimit = configuration.sprayUsernameLimit
        sprayWindow = configuration.sprayWindow
        sharedSprayLimit = configuration.sharedSprayUsernameLimit
        configuredLongWindowLimit = configuration.longWindowFailureLimit
        longWindowIPLimit = Self.longLimit(configuration.longWindowFailureLimit, counter: configuration.ipFailureLimit)
        longWindowUsernameLimit = Self.longLimit(configuration.longWindowFailureLimit, counter: configuration.usernameFailureLimit)
        longWindow = configuration.longWindow
        historyWindow = configuration.accessAttemptExpiration
        successReset = configuration.successReset
        reservationTTL = configuration.reservationTTL
    }

    /// The limit of a key's kind (a pair counts as the IP it stands for, a device as the username it stands in for).
    public func limit(of kind: DefenderKey.Kind) -> Int { kind.isUsernameDimension ? usernameLimit : ipLimit }

    /// The long-window limit of a key's kind; zero: off.
    public func longWindowLimit(of kind: DefenderKey.Kind) -> Int { kind.isUsernameDimension ? longWindowUsernameLimit : longWindowIPLimit }

    /// `DEFENDER_LONG_WINDOW_FAILURE_LIMIT` as configured, for the long-window limit of a device.
    private var configuredLongWindowLimit: Int

    /// A dimension's long-window limit: never below the counter's limit; and a dimension whose counter allows more
    /// than the window's maximum gets no window (it is not after lockouts), so that a window never keeps more than
    /// that many times.
    static func longLimit(_ long: Int, counter: Int) -> Int {
        guard long > 0, counter <= DefenderConfiguration.maximumLongWindowLimit else { return 0 }
        return max(long, counter)
    }

    /// The rules for a trusted client's login, whose username dimension is its device (see ``DeviceCookies``):
    /// the device may fail `limit` times per cool-off and, with a long window, as many times within it as a
    /// username may — so that a stolen cookie, which does not expire when its owner logs in again, buys no more
    /// guesses per long window than a client without one. Everything else is this policy's.
    public func trustingDevice(limit: Int) -> LockoutPolicy {
        var policy = self
        policy.usernameLimit = limit
        policy.longWindowUsernameLimit = Self.longLimit(configuredLongWindowLimit, counter: limit)
        return policy
    }

    /// The spraying limit for requests whose IP dimension is `ip`: a shared address has its own.
    public func sprayLimit(for ip: DefenderKey) -> Int { ip.kind == .pair ? sharedSprayLimit : sprayLimit }

    /// Whether a key with `failures` live failures and `inFlight` admitted checks may be blocked by the time
    /// those checks are recorded (all of them failures: the worst case).
    public func mayBeBlocked(failures: Int, inFlight: Int, limit: Int) -> Bool {
        inFlight > 0 && failures + inFlight > limit
    }

    /// The block length of a lockout, given how many lockouts the key had within the window before it.
    public func cooloff(afterPreviousLockouts count: Int) -> Duration {
        lockoutCooloffs[min(count, lockoutCooloffs.count - 1)]
    }

    /// A random extra for one automatic block, up to ``lockoutJitter`` (whole milliseconds).
    public func randomJitter() -> Duration {
        let most = lockoutJitter.components.seconds * 1000 + lockoutJitter.components.attoseconds / 1_000_000_000_000_000
        return most > 0 ? .milliseconds(Int64.random(in: 0...most)) : .zero
    }

    /// Whether a request is locked, given which of its keys are blocked (automatic blocks only).
    ///
    /// AND mode with a disabled dimension locks by the other dimension alone; django-defender 0.9.8 never
    /// locked in that case.
    public func isLocked(ipBlocked: Bool, usernameBlocked: Bool) -> Bool {
        switch (disableIPLockout, disableUsernameLockout) {
        case (true, true): return false
        case (true, false): return usernameBlocked
        case (false, true): return ipBlocked
        case (false, false): return lockOutByIPAndUsername ? ipBlocked && usernameBlocked : ipBlocked || usernameBlocked
        }
    }
}

/// Why and for how long a request is refused.
public struct Lockout: Sendable, Hashable {
    /// The blocked keys that lock the request.
    public var keys: [DefenderKey]
    /// Time until the lock lifts; `nil` when it lasts until an operator unblocks.
    public var retryAfter: Duration?
    /// Why the request is refused.
    public var reason: Reason

    /// Why a request is refused.
    public enum Reason: Sendable, Hashable {
        /// A block in the store: failures over a limit, password spraying, or an operator's block.
        case blocked
        /// The IP or username is on a deny list (``DefenderConfiguration/ipDenylist`` and the others).
        case denylisted
    }

    /// A lockout by `keys`, lifting after `retryAfter` (`nil`: until unblocked).
    public init(keys: [DefenderKey], retryAfter: Duration?, reason: Reason = .blocked) {
        self.keys = keys
        self.retryAfter = retryAfter
        self.reason = reason
    }

    /// Whether it lasts until an operator unblocks.
    public var isPermanent: Bool { retryAfter == nil }

    /// Whole seconds for `Retry-After`, rounded up so a client never retries too early.
    public var retryAfterSeconds: Int? {
        guard let retryAfter else { return nil }
        let (seconds, attoseconds) = retryAfter.components
        return max(1, Int(seconds) + (attoseconds > 0 ? 1 : 0))
    }
}
