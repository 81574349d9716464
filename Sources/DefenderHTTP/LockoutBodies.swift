import Synchronization

/// The bodies of lockout answers already built, so that a refused request — nearly all of the traffic under attack
/// — costs a dictionary lookup instead of a template render or a JSON encoding.
///
/// A body depends only on the key's values (the format, the message, permanence, the status, the seconds left,
/// the limit shown), so a cached body is byte for byte the one a render would give. Under attack the seconds left take at
/// most one value per second of the cool-off, so the table stays small; it is cleared when it reaches
/// ``capacity`` (escalating cool-offs of days), never grows past it, and is rebuilt from the next requests.
package final class LockoutBodies: Sendable {
    package struct Key: Hashable, Sendable {
        var json: Bool
        var message: Message
        var permanent: Bool
        var status: Int
        var seconds: Int?
        var failureLimit: Int
    }

    package enum Message: UInt8, Hashable, Sendable {
        case temporary, permanent, denied
    }

    /// The most bodies kept.
    package static let capacity = 2048

    private let bodies = Mutex<[Key: [UInt8]]>([:])

    package init() {}

    /// The body for `key`, built by `build` the first time.
    package func body(for key: Key, _ build: () -> [UInt8]) -> [UInt8] {
        if let body = bodies.withLock({ $0[key] }) { return body }
        let body = build()
        bodies.withLock { table in
            if table.count >= Self.capacity { table.removeAll(keepingCapacity: true) }
            table[key] = body
        }
        return body
    }

    /// How many bodies are kept (for tests).
    package var count: Int { bodies.withLock { $0.count } }
}
