import Synchronization

/// Holds tasks until `parties` of them have arrived, then lets them all go at once, so that a concurrency
/// test really starts its requests together instead of as fast as a loop can spawn them.
public final class StartGate: Sendable {
    private struct State {
        var arrived = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let parties: Int
    private let state = Mutex(State())

    /// - Parameter parties: how many tasks must arrive before any goes on.
    public init(parties: Int) {
        self.parties = parties
    }

    /// Waits until every party has arrived.
    public func arrive() async {
        await withCheckedContinuation { continuation in
            let released: [CheckedContinuation<Void, Never>] = state.withLock { state in
                state.arrived += 1
                state.waiting.append(continuation)
                guard state.arrived >= parties else { return [] }
                defer { state.waiting.removeAll() }
                return state.waiting
            }
            for waiter in released { waiter.resume() }
        }
    }
}
