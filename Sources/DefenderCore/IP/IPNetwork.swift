/// A CIDR range such as `10.0.0.0/8` or `fc00::/7`.
public struct IPNetwork: Hashable, Sendable, CustomStringConvertible {
    /// The first address of the range (host bits cleared).
    public let address: IPAddress
    /// The number of leading bits that are fixed.
    public let prefixLength: Int

    /// Creates the network that contains `address`, clearing its host bits.
    /// - Parameters:
    ///   - address: any address inside the network.
    ///   - prefixLength: 0...32 for IPv4, 0...128 for IPv6; clamped into that range.
    public init(address: IPAddress, prefixLength: Int) {
        switch address {
        case .v4(let value):
            let length = min(max(prefixLength, 0), 32)
            self.address = .v4(length == 0 ? 0 : value & (UInt32.max << (32 - length)))
            self.prefixLength = length
        case .v6(let value):
            let length = min(max(prefixLength, 0), 128)
            self.address = .v6(length == 0 ? 0 : value & (UInt128.max << (128 - length)))
            self.prefixLength = length
        }
    }

    /// Parses `address/length`, or a bare address (a single-host network).
    ///
    /// Returns `nil` for a malformed address or a length out of range. An IPv4-mapped IPv6 range
    /// (`::ffff:0:0/96` and longer) is read as the IPv4 range it maps.
    public init?(_ text: some StringProtocol) {
        let trimmed = text.trimmingASCIIWhitespace()
        let parts = trimmed.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let first = parts.first, let address = IPAddress(first) else { return nil }
        var length: Int
        switch address {
        case .v4: length = 32
        case .v6: length = 128
        }
        if parts.count == 2 {
            guard let value = Int(parts[1]), parts[1].allSatisfy(\.isASCIIDigit), value >= 0 else { return nil }
            if case .v4 = address, first.contains(":") {
                // "::ffff:10.0.0.0/104" style: the prefix counts the 96 mapping bits.
                guard value >= 96, value <= 128 else { return nil }
                length = value - 96
            } else {
                guard value <= length else { return nil }
                length = value
            }
        }
        self.init(address: address, prefixLength: length)
    }

    /// Whether `candidate` lies inside this range. IPv4 and IPv6 never match each other.
    public func contains(_ candidate: IPAddress) -> Bool {
        switch (address, candidate) {
        case (.v4(let base), .v4(let value)):
            return prefixLength == 0 || (value & (UInt32.max << (32 - prefixLength))) == base
        case (.v6(let base), .v6(let value)):
            return prefixLength == 0 || (value & (UInt128.max << (128 - prefixLength))) == base
        default:
            return false
        }
    }

    /// `address/length` in canonical form.
    public var description: String { "\(address)/\(prefixLength)" }
}

extension StringProtocol {
    /// Trims spaces, tabs, CR and LF from both ends, byte by byte (no grapheme breaking: this runs for every
    /// forwarded address and setting).
    func trimmingASCIIWhitespace() -> Substring {
        let text = Substring(self)
        let bytes = text.utf8
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, isSpace(bytes[start]) { start = bytes.index(after: start) }
        while end > start, isSpace(bytes[bytes.index(before: end)]) { end = bytes.index(before: end) }
        return Substring(bytes[start..<end])
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
    var isASCIIWhitespaceOrControl: Bool { self == " " || self == "\t" || self == "\n" || self == "\r" }
}
