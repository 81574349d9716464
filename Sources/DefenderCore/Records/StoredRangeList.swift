import Foundation

/// One range of a stored range list (the deny list, the shared ranges).
public struct StoredRangeEntry: Sendable, Hashable {
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

/// A list of address ranges kept outside the process (a database table) — the stored deny list, or the stored
/// shared ranges — managed by operators from the admin and the commands and re-read by every instance each
/// `DefenderConfiguration/ipDenylistReloadInterval` (`FluentDenylist` and `FluentSharedRanges` in `DefenderFluent`
/// are two). It only stores: the integration applies the ranges.
public protocol StoredRangeList: Sendable {
    /// Every entry, oldest first.
    /// - Throws: the database's error.
    func entries() async throws -> [StoredRangeEntry]

    /// Adds a range.
    /// - Returns: whether it was new.
    /// - Throws: the database's error.
    func add(_ network: IPNetwork, note: String) async throws -> Bool

    /// Removes a range.
    /// - Returns: whether it was there.
    /// - Throws: the database's error.
    func remove(_ network: IPNetwork) async throws -> Bool
}

/// A stored deny list (the name of ``StoredRangeList`` before shared ranges could be stored too).
public typealias StoredDenylist = StoredRangeList

/// One range of a stored deny list.
public typealias StoredDenylistEntry = StoredRangeEntry

extension StoredRangeList {
    /// The ranges, as the engine applies them.
    public func networks() async throws -> IPNetworkSet {
        IPNetworkSet(try await entries().map(\.network))
    }
}
