import Logging
import ServiceLifecycle

/// Work repeated at an interval for the application's lifetime (the deny-list file and table reloads), as a
/// swift-service-lifecycle `Service`: ``run()`` returns on graceful shutdown or cancellation, never in the middle
/// of a pass.
public struct DefenderPoller: Service {
    /// What the poller does, for its log lines.
    public let name: String
    /// The pause between passes.
    public let interval: Duration
    /// Whether the first pass runs at once (otherwise after one interval).
    public let startImmediately: Bool
    private let work: @Sendable () async throws -> Void
    private let logger: Logger

    /// - Parameters:
    ///   - name: what the work is, for the error logged when a pass throws.
    ///   - interval: the pause between passes.
    ///   - startImmediately: run the first pass at once.
    ///   - logger: where a failed pass is logged (the poller keeps going).
    ///   - work: one pass.
    public init(
        name: String, interval: Duration, startImmediately: Bool = false, logger: Logger = Logger(label: "defender"),
        work: @escaping @Sendable () async throws -> Void
    ) {
        self.name = name
        self.interval = interval
        self.startImmediately = startImmediately
        self.logger = logger
        self.work = work
    }

    /// Runs a pass every ``interval`` until graceful shutdown or cancellation.
    public func run() async {
        var first = startImmediately
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            if !first {
                // The pause ends early on graceful shutdown; the pass itself is never cut short.
                guard (try? await cancelWhenGracefulShutdown({ try await Task.sleep(for: interval) })) != nil else { return }
                guard !Task.isShuttingDownGracefully else { return }
            }
            first = false
            do {
                try await work()
            } catch {
                logger.error("\(name) failed; the previous state stays in force", metadata: ["error": "\(error)"])
            }
        }
    }
}
