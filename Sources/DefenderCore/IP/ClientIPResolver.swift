/// Finds the client address of a request in a way that a client cannot forge.
///
/// Without a reverse proxy the socket peer is the client. Behind one (``DefenderConfiguration/behindReverseProxy``),
/// the configured header is believed only when the peer is a trusted proxy, and it is walked from the right,
/// skipping trusted proxies: the first untrusted address is the client. django-defender took the leftmost
/// entry, which is whatever the client wrote.
public struct ClientIPResolver: Sendable {
    /// How the forwarding header is read.
    public enum HeaderFormat: Sendable, Equatable {
        /// A comma-separated list of addresses (`X-Forwarded-For`, `X-Real-IP`, …).
        case addressList(name: String)
        /// RFC 7239 `Forwarded`, read from its `for=` parameters.
        case forwarded
    }

    /// Why a request has no usable client address.
    public enum Failure: Error, Sendable, Equatable {
        /// The forwarding header held something other than an address where the client should be.
        case malformedForwardingHeader(String)
    }

    /// Whether forwarding headers are considered at all.
    public var behindReverseProxy: Bool
    /// The header to read behind a proxy.
    public var header: HeaderFormat
    /// Peers (and header entries) in these ranges are proxies, not clients.
    public var trustedProxies: [IPNetwork]
    /// IPv6 clients are grouped by this prefix (64 by default: one subnet is one client).
    public var ipv6PrefixLength: Int
    /// How many header entries are walked at most before the request is refused.
    public var maximumHops: Int = 32

    /// Creates a resolver from a configuration.
    public init(configuration: DefenderConfiguration) {
        self.behindReverseProxy = configuration.behindReverseProxy
        self.header = Self.headerFormat(forSetting: configuration.reverseProxyHeader)
        self.trustedProxies = configuration.trustedProxies
        self.ipv6PrefixLength = configuration.ipv6PrefixLength
    }

    /// Maps django-defender's META-style name (`HTTP_X_FORWARDED_FOR`) or a plain header name to a header.
    public static func headerFormat(forSetting setting: String) -> HeaderFormat {
        var name = setting.trimmingASCIIWhitespace()
        if name.uppercased().hasPrefix("HTTP_") { name = name.dropFirst(5) }
        let plain = String(name.map { $0 == "_" ? "-" : $0 })
        if plain.lowercased() == "forwarded" { return .forwarded }
        return .addressList(name: plain)
    }

    /// Resolves the client of one request.
    /// - Parameters:
    ///   - peer: the socket peer; `nil` for a Unix-domain socket or an in-process request, which are local
    ///     and treated as `127.0.0.1`.
    ///   - headerValues: returns every value of a header, in order, for a case-insensitive name.
    /// - Returns: the client, with the key it is counted under.
    /// - Throws: ``Failure/malformedForwardingHeader(_:)`` when a trusted proxy passed on garbage.
    public func resolve(peer: IPAddress?, headerValues: (String) -> [String]) throws(Failure) -> ClientAddress {
        let peer = peer ?? .v4(0x7F00_0001)
        guard behindReverseProxy, isTrusted(peer) else { return client(peer) }
        let entries: [Substring]
        switch header {
        case .addressList(let name):
            entries = headerValues(name).flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
        case .forwarded:
            entries = headerValues("Forwarded").flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
        }
        let meaningful = entries.map { $0.trimmingASCIIWhitespace() }
        if meaningful.allSatisfy(\.isEmpty) { return client(peer) }
        var leftmost = peer
        for (hops, entry) in meaningful.reversed().enumerated() {
            guard hops < maximumHops else { throw .malformedForwardingHeader("more than \(maximumHops) forwarding hops") }
            let text = header == .forwarded ? Self.forwardedFor(entry) : entry
            guard let text, let address = Self.parseEntry(text) else {
                throw .malformedForwardingHeader(String(entry.prefix(64)))
            }
            if !isTrusted(address) { return client(address) }
            leftmost = address
        }
        return client(leftmost)
    }

    /// Whether a trusted proxy says the client's request came over HTTPS: `X-Forwarded-Proto: https` or
    /// `Forwarded: proto=https` (the nearest proxy's entry), believed only with ``behindReverseProxy`` and from a
    /// trusted peer, as the client address is.
    /// - Parameters:
    ///   - peer: the socket peer; `nil` for a Unix-domain socket (counted as loopback).
    ///   - headerValues: the request's values of a header, by name.
    public func forwardedHTTPS(peer: IPAddress?, headerValues: (String) -> [String]) -> Bool {
        guard behindReverseProxy, isTrusted(peer ?? .v4(0x7F00_0001)) else { return false }
        if let proto = headerValues("X-Forwarded-Proto").last?.split(separator: ",").last {
            return proto.trimmingASCIIWhitespace().lowercased() == "https"
        }
        guard let forwarded = headerValues("Forwarded").last?.split(separator: ",").last else { return false }
        return forwarded.split(separator: ";").contains { parameter in
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingASCIIWhitespace().lowercased() }
            return pair.count == 2 && pair[0] == "proto" && pair[1].filter { $0 != "\"" } == "https"
        }
    }

    /// Whether an address belongs to a trusted proxy.
    public func isTrusted(_ address: IPAddress) -> Bool {
        trustedProxies.contains { $0.contains(address) }
    }

    /// The client address and the key it is counted under (IPv6 grouped by prefix).
    public func client(_ address: IPAddress) -> ClientAddress {
        ClientAddress(address: address, ipv6PrefixLength: ipv6PrefixLength)
    }

    /// Reads an address from one header entry: strips brackets, a port and a zone id.
    public static func parseEntry(_ raw: some StringProtocol) -> IPAddress? {
        var text = Substring(raw).trimmingASCIIWhitespace()
        if text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 2 { text = text.dropFirst().dropLast() }
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let rest = text[text.index(after: close)...]
            guard rest.isEmpty || (rest.hasPrefix(":") && rest.count > 1 && rest.dropFirst().allSatisfy(\.isASCIIDigit))
            else { return nil }
            return IPAddress(text[text.index(after: text.startIndex)..<close])
        }
        // An IPv4 address with a port: exactly one colon.
        if text.contains("."), let colon = text.firstIndex(of: ":"), text[text.index(after: colon)...].allSatisfy(\.isASCIIDigit) {
            guard text.index(after: colon) < text.endIndex else { return nil }
            return IPAddress(text[..<colon])
        }
        return IPAddress(text)
    }

    /// The `for=` value of one RFC 7239 element, or `nil` when it has none.
    static func forwardedFor(_ element: Substring) -> Substring? {
        for pair in element.split(separator: ";") {
            let trimmed = pair.trimmingASCIIWhitespace()
            guard let equals = trimmed.firstIndex(of: "=") else { continue }
            if trimmed[..<equals].trimmingASCIIWhitespace().lowercased() == "for" {
                return trimmed[trimmed.index(after: equals)...].trimmingASCIIWhitespace()
            }
        }
        return nil
    }
}

/// A client address and the key under which its failures are counted.
public struct ClientAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address itself.
    public let address: IPAddress
    /// The counting key: the canonical IPv4 text, or the IPv6 prefix group such as `2001:db8:1:2::/64`.
    public let key: String

    /// Groups `address` by the IPv6 prefix (IPv4 addresses are never grouped).
    public init(address: IPAddress, ipv6PrefixLength: Int = 64) {
        self.address = address
        switch address {
        case .v4:
            key = address.description
        case .v6:
            key = ipv6PrefixLength >= 128
                ? address.description : IPNetwork(address: address, prefixLength: ipv6PrefixLength).description
        }
    }

    /// The canonical address text.
    public var description: String { address.description }
}
