import DefenderCore
import Synchronization

/// A clock that moves only when told, so that cool-offs can be tested without sleeping.
public final class ManualClock: DefenderClock {
    private let current: Mutex<Duration>

    /// Creates a clock at `start`.
    public init(start: Duration = .seconds(1_000)) {
        current = Mutex(start)
    }

    public func now() -> Duration { current.withLock { $0 } }

    /// Moves the clock forward.
    public func advance(by duration: Duration) {
        current.withLock { $0 += duration }
    }
}
