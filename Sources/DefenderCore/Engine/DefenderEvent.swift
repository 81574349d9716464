import ServiceLifecycle
import Synchronization

/// django-defender's signals: a key became blocked or unblocked. Fired once per transition.
public struct DefenderEvent: Sendable, Hashable, CustomStringConvertible {
    /// Which transition.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        public let description: String
        private init(_ name: String) { description = name }
        /// `ip_block`.
        public static let ipBlocked = Kind("ipBlocked")
        /// `ip_unblock`.
        public static let ipUnblocked = Kind("ipUnblocked")
        /// `username_block`.
        public static let usernameBlocked = Kind("usernameBlocked")
        /// `username_unblock`.
        public static let usernameUnblocked = Kind("usernameUnblocked")
    }

    /// The transition.
    public let kind: Kind
    /// The key concerned.
    public let key: DefenderKey

    /// Creates the event for `key` becoming blocked or unblocked.
    public init(key: DefenderKey, blocked: Bool) {
        self.key = key
        switch (key.kind, blocked) {
        case (.ip, true): kind = .ipBlocked
        case (.ip, false): kind = .ipUnblocked
        case (.username, true): kind = .usernameBlocked
        case (.username, false): kind = .usernameUnblocked
        }
    }

    public var description: String { "\(kind) \(key.value)" }
}

/// Delivers ``DefenderEvent``s to async handlers off the login path.
///
/// ``emit(_:)`` only enqueues (bounded: under a flood the oldest undelivered events are dropped and
/// counted in ``droppedCount``); ``run()`` delivers them in order, one handler after another.
///
/// It is a swift-service-lifecycle `Service`: add it to the app's `ServiceGroup` (the Vapor integration runs it
/// from the application's lifecycle). On graceful shutdown it delivers the events already queued, then returns.
public final class DefenderEventBus: Service {
    /// An event handler.
    public typealias Handler = @Sendable (DefenderEvent) async -> Void

    private let handlers = Mutex<[Handler]>([])
    private let dropped = Atomic<Int>(0)
    private let stream: AsyncStream<DefenderEvent>
    private let continuation: AsyncStream<DefenderEvent>.Continuation

    /// Creates a bus holding at most `bufferSize` undelivered events.
    public init(bufferSize: Int = 10_000) {
        (stream, continuation) = AsyncStream.makeStream(of: DefenderEvent.self, bufferingPolicy: .bufferingNewest(bufferSize))
    }

    /// Adds a handler; it sees every event emitted after this call.
    public func on(_ handler: @escaping Handler) {
        handlers.withLock { $0.append(handler) }
    }

    /// Enqueues an event without waiting.
    public func emit(_ event: DefenderEvent) {
        if case .dropped = continuation.yield(event) {
            dropped.add(1, ordering: .relaxed)
        }
    }

    /// Events dropped because nobody ran ``run()`` fast enough.
    public var droppedCount: Int { dropped.load(ordering: .relaxed) }

    /// Delivers events until ``finish()``, graceful shutdown (after the queued ones) or cancellation. Run it
    /// once, for the lifetime of the app.
    public func run() async {
        await withGracefulShutdownHandler {
            for await event in stream {
                for handler in handlers.withLock({ $0 }) { await handler(event) }
            }
        } onGracefulShutdown: {
            self.finish()
        }
    }

    /// Ends ``run()`` after the events already queued are delivered.
    public func finish() {
        continuation.finish()
    }
}
