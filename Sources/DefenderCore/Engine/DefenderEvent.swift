import ServiceLifecycle
import Synchronization

/// django-defender's signals: a key became blocked or unblocked. Fired once per transition.
///
/// ```swift
/// app.defender.events.on { event in
///     switch event {
///     case .ipBlocked(let ip): await firewall.drop(ip)  // "203.0.113.7", or an IPv6 group "2001:db8::/64"
///     case .usernameBlocked(let username): await mailer.warn(username)
///     case .pairBlocked(let address, let username): print("\(username) from the shared \(address)")
///     case .trustedLoginDuringLockout(let username): await mailer.tell(username, "someone is trying your password")
///     case .ipUnblocked, .usernameUnblocked, .pairUnblocked, .deviceBlocked, .deviceUnblocked: break
///     }
/// }
/// ```
///
/// Its `description` redacts the address or username (`ipBlocked ********`), so that an event written to a log
/// never leaks one; ``description(redacted:)`` follows `DEFENDER_LOG_REDACT` as Defender's own log lines do.
public enum DefenderEvent: Sendable, Hashable, CustomStringConvertible {
    /// A client address (an IPv6 client's group, such as `2001:db8::/64`) was blocked (`ip_block`).
    case ipBlocked(String)
    /// A client address was unblocked (`ip_unblock`).
    case ipUnblocked(String)
    /// A username (normalised) was blocked (`username_block`).
    case usernameBlocked(String)
    /// A username was unblocked (`username_unblock`).
    case usernameUnblocked(String)
    /// A username was blocked from one shared address (`DEFENDER_SHARED_IP_RANGES`): the pair that stands for
    /// the address there, which itself stays open to everyone else behind it.
    case pairBlocked(address: String, username: String)
    /// A shared address's pair was unblocked.
    case pairUnblocked(address: String, username: String)
    /// A trusted client's device (its device cookie's identifier) was blocked after failures through it; the
    /// browser is judged like any other client until the block ends.
    case deviceBlocked(String)
    /// A device was unblocked.
    case deviceUnblocked(String)
    /// The owner of a locked username logged in from a trusted device (see ``DeviceCookies``): the lockout,
    /// which stays in force for everyone else, was someone else's doing, or the owner's own earlier mistakes.
    case trustedLoginDuringLockout(username: String)

    /// Creates the event for `key` becoming blocked or unblocked.
    public init(key: DefenderKey, blocked: Bool) {
        switch (key.kind, blocked) {
        case (.ip, true): self = .ipBlocked(key.value)
        case (.ip, false): self = .ipUnblocked(key.value)
        case (.username, true): self = .usernameBlocked(key.value)
        case (.username, false): self = .usernameUnblocked(key.value)
        case (.device, true): self = .deviceBlocked(key.value)
        case (.device, false): self = .deviceUnblocked(key.value)
        case (.pair, let blocked):
            let (address, username) = (key.pairAddress?.value ?? "", key.pairUsername ?? key.value)
            self = blocked ? .pairBlocked(address: address, username: username) : .pairUnblocked(address: address, username: username)
        }
    }

    /// The key concerned.
    public var key: DefenderKey {
        switch self {
        case .ipBlocked(let value), .ipUnblocked(let value): DefenderKey(kind: .ip, normalizedValue: value)
        case .usernameBlocked(let value), .usernameUnblocked(let value): DefenderKey(kind: .username, normalizedValue: value)
        case .pairBlocked(let address, let username), .pairUnblocked(let address, let username):
            DefenderKey(kind: .pair, normalizedValue: address + "|" + username)
        case .deviceBlocked(let value), .deviceUnblocked(let value): DefenderKey(kind: .device, normalizedValue: value)
        case .trustedLoginDuringLockout(let username): DefenderKey(kind: .username, normalizedValue: username)
        }
    }

    /// Whether the key became blocked (else it was unblocked, or a trusted client logged in).
    public var isBlock: Bool {
        switch self {
        case .ipBlocked, .usernameBlocked, .pairBlocked, .deviceBlocked: true
        case .ipUnblocked, .usernameUnblocked, .pairUnblocked, .deviceUnblocked, .trustedLoginDuringLockout: false
        }
    }

    /// The signal's name: `ipBlocked`, `ipUnblocked`, `usernameBlocked`, `usernameUnblocked`, `pairBlocked`,
    /// `pairUnblocked`, `deviceBlocked`, `deviceUnblocked` or `trustedLoginDuringLockout`.
    public var name: String {
        switch self {
        case .ipBlocked: "ipBlocked"
        case .ipUnblocked: "ipUnblocked"
        case .usernameBlocked: "usernameBlocked"
        case .usernameUnblocked: "usernameUnblocked"
        case .pairBlocked: "pairBlocked"
        case .pairUnblocked: "pairUnblocked"
        case .deviceBlocked: "deviceBlocked"
        case .deviceUnblocked: "deviceUnblocked"
        case .trustedLoginDuringLockout: "trustedLoginDuringLockout"
        }
    }

    /// `ipBlocked ********`: the name, with the address or username redacted.
    public var description: String { description(redacted: true) }

    /// The name and the address or username, or `********` in its place.
    /// - Parameter redacted: whether to hide the value (pass `DefenderConfiguration/redactLogs`).
    public func description(redacted: Bool) -> String { "\(name) \(redacted ? "********" : key.value)" }

    /// Why a key became blocked, for handlers that tell lockouts apart (``DefenderEventBus/on(detailed:)``); the
    /// same names as the metric `defender_lockouts_total{kind}` and the log line's `kind`.
    public enum Cause: String, Sendable, Hashable, CaseIterable {
        /// Its counter passed its limit within `DEFENDER_ATTEMPT_COOLOFF_TIME`: an IP, a username, or a shared
        /// address's pair (told apart by the event's case).
        case counter
        /// Password spraying: an address failed on too many distinct usernames.
        case spray
        /// The long window: too many failures within `DEFENDER_LONG_WINDOW`, however slowly they came.
        case longWindow = "long_window"
        /// An operator's block.
        case manual
    }
}

/// Delivers ``DefenderEvent``s to async handlers off the login path.
///
/// ``emit(_:cause:)`` only enqueues. Each handler has its own bounded queue and its own task, so that a slow one (a
/// webhook whose server does not answer) neither delays nor makes drop another's events (the unlock e-mail that is
/// the owner's way back in, a firewall rule): under a flood the oldest events a handler has not taken yet are
/// dropped for that handler alone, and counted in ``droppedCount``. Each handler gets its events in order.
///
/// It is a swift-service-lifecycle `Service`: add it to the app's `ServiceGroup` (the Vapor integration runs it
/// from the application's lifecycle). On graceful shutdown it delivers the events already queued, then returns.
public final class DefenderEventBus: Service {
    /// An event handler.
    public typealias Handler = @Sendable (DefenderEvent) async -> Void
    /// An event handler that also learns why a key was blocked (`nil` for unblocks).
    public typealias DetailedHandler = @Sendable (DefenderEvent, DefenderEvent.Cause?) async -> Void

    private struct Delivery: Sendable {
        let event: DefenderEvent
        let cause: DefenderEvent.Cause?
    }

    /// One handler with its queue.
    private struct Subscriber: Sendable {
        let handler: DetailedHandler
        let queue: AsyncStream<Delivery>
        let enqueue: AsyncStream<Delivery>.Continuation
    }

    private let bufferSize: Int
    private let subscribers = Mutex<(list: [Subscriber], finished: Bool)>(([], false))
    private let dropped = Atomic<Int>(0)
    /// Handlers as they are added, for ``run()`` to start a task for each (also those added while it runs).
    private let added: AsyncStream<Subscriber>
    private let announce: AsyncStream<Subscriber>.Continuation

    /// Creates a bus holding at most `bufferSize` undelivered events per handler.
    public init(bufferSize: Int = 10_000) {
        self.bufferSize = max(1, bufferSize)
        (added, announce) = AsyncStream.makeStream(of: Subscriber.self)
    }

    /// Adds a handler; it sees every event emitted after this call.
    public func on(_ handler: @escaping Handler) {
        on(detailed: { event, _ in await handler(event) })
    }

    /// Adds a handler that also learns why a key became blocked: its counter, spraying, the long window, or an
    /// operator (`nil` for an unblock), so that it can tell a slow attack from a fast one.
    public func on(detailed handler: @escaping DetailedHandler) {
        let (queue, enqueue) = AsyncStream.makeStream(of: Delivery.self, bufferingPolicy: .bufferingNewest(bufferSize))
        let subscriber = Subscriber(handler: handler, queue: queue, enqueue: enqueue)
        let finished = subscribers.withLock { subscribers in
            subscribers.list.append(subscriber)
            return subscribers.finished
        }
        if finished { enqueue.finish() }
        announce.yield(subscriber)
    }

    /// Enqueues an event for every handler, without waiting.
    /// - Parameters:
    ///   - event: the transition.
    ///   - cause: why a key became blocked; `nil` for an unblock.
    public func emit(_ event: DefenderEvent, cause: DefenderEvent.Cause? = nil) {
        let delivery = Delivery(event: event, cause: cause)
        for subscriber in subscribers.withLock({ $0.list }) {
            if case .dropped = subscriber.enqueue.yield(delivery) {
                dropped.add(1, ordering: .relaxed)
            }
        }
    }

    /// Events dropped, over all handlers, because a handler did not keep up.
    public var droppedCount: Int { dropped.load(ordering: .relaxed) }

    /// Delivers events until ``finish()``, graceful shutdown (after the queued ones) or cancellation: each
    /// handler in a task of its own. Run it once, for the lifetime of the app.
    public func run() async {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for await subscriber in added {
                    group.addTask {
                        for await delivery in subscriber.queue { await subscriber.handler(delivery.event, delivery.cause) }
                    }
                }
            }
        } onGracefulShutdown: {
            self.finish()
        }
    }

    /// Ends ``run()`` after the events already queued are delivered.
    public func finish() {
        let list = subscribers.withLock { subscribers in
            subscribers.finished = true
            return subscribers.list
        }
        for subscriber in list { subscriber.enqueue.finish() }
        announce.finish()
    }
}
