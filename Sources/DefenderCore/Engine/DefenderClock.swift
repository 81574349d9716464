/// The time source of the engine and the stores, injected so that expiry can be tested without sleeping.
public protocol DefenderClock: Sendable {
    /// Monotonic time since an arbitrary origin.
    func now() -> Duration
}

/// The process's monotonic clock.
public struct SystemDefenderClock: DefenderClock {
    private let origin = ContinuousClock.now

    /// Creates a clock whose origin is now.
    public init() {}

    public func now() -> Duration { ContinuousClock.now - origin }
}
