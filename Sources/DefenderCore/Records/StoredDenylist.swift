import Foundation

/// One range of a stored deny list.
public struct StoredDenylistEntry: Sendable, Hashable {
    /// The range.
    public var network: IPNetwork
    /// Why it was added, for the next operator.
    public var note: String
    /// When it was added.
    public var createdAt: Date

    /// An entry.
    public init(network: IPNetwork, note: String, createdAt: Date) {
        self.network = network
        self.note = note
        self.createdAt = createdAt
    }
}

/// A deny list kept outside the process (a database table), managed by operators from the admin and the
/// commands and re-read by every instance each `DefenderConfiguration/ipDenylistReloadInterval`
/// (`FluentDenylist` in `DefenderFluent` is one). It only stores: the integration applies the ranges.
public protocol StoredDenylist: Sendable {
    /// Every entry, oldest first.
    /// - Throws: the database's error.
    func entries() async throws -> [StoredDenylistEntry]

    /// Adds a range.
    /// - Returns: whether it was new.
    /// - Throws: the database's error.
    func add(_ network: IPNetwork, note: String) async throws -> Bool

    /// Removes a range.
    /// - Returns: whether it was there.
    /// - Throws: the database's error.
    func remove(_ network: IPNetwork) async throws -> Bool
}

extension StoredDenylist {
    /// The ranges, as the engine applies them.
    public func networks() async throws -> IPNetworkSet {
        IPNetworkSet(try await entries().map(\.network))
    }
}
