import Synchronization

/// The shared ranges in force (`DEFENDER_SHARED_IP_RANGES`, the built-in carrier-grade NAT range, the file of
/// `DEFENDER_SHARED_IP_RANGES_FILE` and the ranges operators store, the last two swapped while the server runs):
/// addresses that many users share, whose IP dimension counts (address, username) pairs instead of the address.
public final class SharedAddressRanges: Sendable {
    struct Ranges: Sendable {
        var configured: IPNetworkSet
        var file = IPNetworkSet()
        var stored = IPNetworkSet()

        var isEmpty: Bool { configured.isEmpty && file.isEmpty && stored.isEmpty }
    }

    private let ranges: Mutex<Ranges>
    private let empty = Atomic<Bool>(true)

    /// The ranges of the settings (``DefenderConfiguration/effectiveSharedIPRanges``); the file is loaded apart.
    public init(configuration: DefenderConfiguration) {
        let ranges = Ranges(configured: IPNetworkSet(configuration.effectiveSharedIPRanges))
        self.ranges = Mutex(ranges)
        empty.store(ranges.isEmpty, ordering: .relaxed)
    }

    /// Whether `address` (a client's own address, not its IPv6 group) is in a shared range.
    public func contains(_ address: IPAddress) -> Bool {
        // With the built-in range turned off and none configured: one atomic load, no lock.
        if empty.load(ordering: .relaxed) { return false }
        return ranges.withLock { $0.configured.contains(address) || $0.file.contains(address) || $0.stored.contains(address) }
    }

    /// Replaces the ranges read from ``DefenderConfiguration/sharedIPRangesFile``.
    public func replaceFileRanges(_ set: IPNetworkSet) {
        replace(\.file, with: set)
    }

    /// Replaces the ranges operators stored (DefenderFluent's `defender_shared_ranges` table, managed from the admin
    /// API and the commands).
    public func replaceStoredRanges(_ set: IPNetworkSet) {
        replace(\.stored, with: set)
    }

    private func replace(_ part: WritableKeyPath<Ranges, IPNetworkSet>, with set: IPNetworkSet) {
        let isEmpty = ranges.withLock { ranges in
            ranges[keyPath: part] = set
            return ranges.isEmpty
        }
        empty.store(isEmpty, ordering: .relaxed)
    }

    /// How many ranges the file contributed.
    public var fileRangeCount: Int { ranges.withLock { $0.file.count } }
}

extension DefenderConfiguration {
    /// The shared ranges that come with Defender: `100.64.0.0/10`, the carrier-grade NAT space (RFC 6598), whose
    /// addresses are by definition shared by a carrier's subscribers. A server sees them when it runs inside such
    /// a network or behind a proxy that forwards them.
    public static let builtInSharedIPRanges: [IPNetwork] = [IPNetwork("100.64.0.0/10")!]

    /// The shared ranges in force from the settings: ``sharedIPRanges`` and, unless turned off, the built-in ones.
    public var effectiveSharedIPRanges: [IPNetwork] {
        (sharedIPRangesBuiltIn ? Self.builtInSharedIPRanges : []) + sharedIPRanges
    }
}
