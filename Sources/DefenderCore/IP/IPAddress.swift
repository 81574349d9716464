/// An IPv4 or IPv6 address, parsed strictly and printed canonically (RFC 5952).
///
/// IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) are stored as the IPv4 address they map, so that
/// both spellings of one client share a counter. Zone ids (`fe80::1%eth0`) are accepted and dropped.
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// An IPv4 address, most significant byte first.
    case v4(UInt32)
    /// An IPv6 address, most significant bit first.
    case v6(UInt128)

    /// Parses the textual form of an address.
    ///
    /// Accepts dotted-quad IPv4 (no leading zeros, as Python's `ipaddress` and Django) and every RFC 4291
    /// IPv6 form (`::` compression, an embedded IPv4 tail, a zone id). Returns `nil` for anything else:
    /// ports, brackets and whitespace are the caller's to strip (see ``ClientIPResolver``).
    public init?(_ text: some StringProtocol) {
        let utf8 = Array(text.utf8)
        if utf8.isEmpty || utf8.count > 64 { return nil }
        if let colon = utf8.firstIndex(of: UInt8(ascii: ":")), colon < utf8.count {
            var bytes = utf8[...]
            if let zone = bytes.firstIndex(of: UInt8(ascii: "%")) {
                // A zone id names an interface: it must be non-empty and says nothing about the host.
                if zone == bytes.endIndex - 1 { return nil }
                bytes = bytes[..<zone]
            }
            guard let value = Self.parseV6(bytes) else { return nil }
            self = Self.unmapped(value)
        } else {
            guard let value = Self.parseV4(utf8[...]) else { return nil }
            self = .v4(value)
        }
    }

    /// Whether this is an IPv6 address (after unmapping IPv4-mapped ones).
    public var isIPv6: Bool {
        if case .v6 = self { return true }
        return false
    }

    /// The canonical text: dotted quad for IPv4, RFC 5952 for IPv6.
    public var description: String {
        switch self {
        case .v4(let value): return Self.formatV4(value)
        case .v6(let value): return Self.formatV6(value)
        }
    }

    private static func unmapped(_ value: UInt128) -> IPAddress {
        if value >> 32 == 0xFFFF { return .v4(UInt32(truncatingIfNeeded: value)) }
        return .v6(value)
    }

    static func parseV4(_ bytes: ArraySlice<UInt8>) -> UInt32? {
        var result: UInt32 = 0
        var octets = 0
        var current: UInt32 = 0
        var digits = 0
        var leadingZero = false
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, octets < 3 else { return nil }
                result = result << 8 | current
                octets += 1
                current = 0
                digits = 0
                leadingZero = false
            } else if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                // "01.2.3.4" is ambiguous (octal to some parsers): refuse it, as Python and Django do.
                if leadingZero { return nil }
                if digits == 0, byte == UInt8(ascii: "0") { leadingZero = true }
                current = current * 10 + UInt32(byte - UInt8(ascii: "0"))
                digits += 1
                if current > 255 { return nil }
            } else {
                return nil
            }
        }
        guard digits > 0, octets == 3 else { return nil }
        return result << 8 | current
    }

    static func parseV6(_ bytes: ArraySlice<UInt8>) -> UInt128? {
        var groups: [UInt16] = []
        groups.reserveCapacity(8)
        var compressAt: Int? = nil
        var index = bytes.startIndex
        let end = bytes.endIndex
        if bytes.starts(with: [UInt8(ascii: ":"), UInt8(ascii: ":")]) {
            compressAt = 0
            index += 2
            if index == end { return 0 }
        } else if bytes.first == UInt8(ascii: ":") {
            return nil
        }
        while index < end {
            // An IPv4 tail is allowed in the last 32 bits.
            let groupEnd = bytes[index...].firstIndex(of: UInt8(ascii: ":")) ?? end
            let part = bytes[index..<groupEnd]
            if part.contains(UInt8(ascii: ".")) {
                guard groupEnd == end, groups.count <= 6, let v4 = parseV4(part) else { return nil }
                groups.append(UInt16(v4 >> 16))
                groups.append(UInt16(v4 & 0xFFFF))
                index = end
                break
            }
            guard !part.isEmpty, part.count <= 4 else { return nil }
            var value: UInt16 = 0
            for byte in part {
                guard let nibble = hexValue(byte) else { return nil }
                value = value << 4 | UInt16(nibble)
            }
            groups.append(value)
            guard groups.count <= 8 else { return nil }
            index = groupEnd
            if index == end { break }
            index += 1  // the colon
            if index < end, bytes[index] == UInt8(ascii: ":") {
                guard compressAt == nil else { return nil }
                compressAt = groups.count
                index += 1
            } else if index == end {
                return nil  // a single trailing colon
            }
        }
        if let compressAt {
            guard groups.count < 8 else { return nil }
            let zeros = [UInt16](repeating: 0, count: 8 - groups.count)
            groups.insert(contentsOf: zeros, at: compressAt)
        }
        guard groups.count == 8 else { return nil }
        return groups.reduce(UInt128(0)) { $0 << 16 | UInt128($1) }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    static func formatV4(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }

    static func formatV6(_ value: UInt128) -> String {
        let groups = (0..<8).map { UInt16(truncatingIfNeeded: value >> (112 - 16 * $0)) }
        // RFC 5952 §4.2: compress the longest run of two or more zero groups, the first one on a tie.
        var bestStart = -1
        var bestLength = 1
        var runStart = -1
        for (index, group) in groups.enumerated() {
            if group == 0 {
                if runStart < 0 { runStart = index }
                let length = index - runStart + 1
                if length > bestLength {
                    bestStart = runStart
                    bestLength = length
                }
            } else {
                runStart = -1
            }
        }
        func hex(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        if bestStart < 0 { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
}
