import Synchronization

/// A cap on how often one kind of log line is written: lines an attacker can cause once per request (a
/// deny-listed address knocking, logins waiting too long, a dry run's would-be lockouts) would otherwise let one
/// client fill the disk, drown the other lines, and bill the log pipeline. At most ``linesPerWindow`` lines are
/// written per ``window``; the first line after a window that dropped some says how many were dropped. The metric
/// of each kind still counts every occurrence.
package final class LogBudget: Sendable {
    /// The most lines written per window.
    package let linesPerWindow: Int
    /// How long a window lasts.
    package let window: Duration
    private let state: Mutex<(start: ContinuousClock.Instant, written: Int, dropped: Int)>

    package init(linesPerWindow: Int = 10, window: Duration = .seconds(10), now: ContinuousClock.Instant = .now) {
        self.linesPerWindow = linesPerWindow
        self.window = window
        state = Mutex((now, 0, 0))
    }

    /// Whether a line may be written now and, when it may, how many were dropped since the last one written
    /// (to say so in it).
    package func spend(now: ContinuousClock.Instant = .now) -> (write: Bool, dropped: Int) {
        state.withLock { state in
            if now - state.start >= window {
                state.start = now
                state.written = 0
            }
            guard state.written < linesPerWindow else {
                state.dropped += 1
                return (false, 0)
            }
            state.written += 1
            defer { state.dropped = 0 }
            return (true, state.dropped)
        }
    }
}
