/// A set of CIDR ranges, IPv4 and IPv6, answering "is this address inside any of them" with one walk down a
/// binary prefix trie: at most 32 (IPv4) or 128 (IPv6) steps, whatever the number of ranges.
///
/// ```swift
/// var denied = IPNetworkSet()
/// denied.insert(IPNetwork("203.0.113.0/24")!)
/// denied.contains(IPAddress("203.0.113.9")!)  // true
/// ```
public struct IPNetworkSet: Sendable, Equatable {
    private var v4 = PrefixTrie()
    private var v6 = PrefixTrie()
    /// How many ranges were inserted (a range inside another still counts).
    public private(set) var count = 0

    /// An empty set.
    public init() {}

    /// A set of the given ranges.
    public init(_ networks: some Sequence<IPNetwork>) {
        for network in networks { insert(network) }
    }

    /// Whether the set holds no range.
    public var isEmpty: Bool { count == 0 }

    /// Adds a range.
    public mutating func insert(_ network: IPNetwork) {
        count += 1
        switch network.address {
        case .v4(let value): v4.insert(value, length: network.prefixLength)
        case .v6(let value): v6.insert(value, length: network.prefixLength)
        }
    }

    /// Whether `address` lies in one of the ranges. IPv4-mapped IPv6 addresses are parsed as IPv4 already.
    public func contains(_ address: IPAddress) -> Bool {
        switch address {
        case .v4(let value): return v4.contains(value)
        case .v6(let value): return v6.contains(value)
        }
    }

    /// Parses a list file: one address or CIDR range a line; `#` starts a comment; blank lines are skipped.
    /// - Parameters:
    ///   - text: the file's contents.
    ///   - source: named in errors (the file path or setting).
    /// - Throws: ``DefenderError`` with ``DefenderError/Code/invalidConfiguration`` naming the first bad line.
    public static func parse(_ text: String, source: String) throws(DefenderError) -> IPNetworkSet {
        var set = IPNetworkSet()
        var number = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let entry = content.trimmingASCIIWhitespace()
            if entry.isEmpty { continue }
            guard let network = IPNetwork(entry) else {
                throw DefenderError(
                    .invalidConfiguration,
                    "line \(number): '\(entry.prefix(64))' is not an IP address or CIDR range (one a line, # for comments)",
                    setting: source)
            }
            set.insert(network)
        }
        return set
    }
}

/// A binary trie over the leading bits of addresses; a node marked `terminal` ends a stored range, so every
/// address below it matches and nothing deeper is kept.
struct PrefixTrie: Sendable, Equatable {
    /// Two child indexes per node (`0` = none: the root is never a child).
    private var children: [UInt32] = [0, 0]
    private var terminal: [Bool] = [false]

    mutating func insert<T: FixedWidthInteger & UnsignedInteger>(_ value: T, length: Int) {
        var node = 0
        for depth in 0..<length {
            if terminal[node] { return }
            let bit = Int((value >> (T.bitWidth - 1 - depth)) & 1)
            var next = Int(children[2 * node + bit])
            if next == 0 {
                next = terminal.count
                children[2 * node + bit] = UInt32(next)
                children.append(contentsOf: [0, 0])
                terminal.append(false)
            }
            node = next
        }
        terminal[node] = true
        // A wider range makes what was stored below it redundant; the unreachable nodes are left in place.
        children[2 * node] = 0
        children[2 * node + 1] = 0
    }

    func contains<T: FixedWidthInteger & UnsignedInteger>(_ value: T) -> Bool {
        children.withUnsafeBufferPointer { children in
            terminal.withUnsafeBufferPointer { terminal in
                var node = 0
                var depth = 0
                while true {
                    if terminal[node] { return true }
                    if depth == T.bitWidth { return false }
                    let bit = Int((value >> (T.bitWidth - 1 - depth)) & 1)
                    let next = Int(children[2 * node + bit])
                    if next == 0 { return false }
                    node = next
                    depth += 1
                }
            }
        }
    }
}
