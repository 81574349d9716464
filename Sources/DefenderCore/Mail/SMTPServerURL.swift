import Foundation

/// A mail server's address and credentials, read from `DEFENDER_SMTP_URL`.
///
/// `smtp://[user:password@]host[:port]` (port 25 by default) upgrades to TLS with STARTTLS whenever the server
/// offers it, and refuses to send a password over a connection that did not; `smtps://` (port 465) speaks TLS
/// from the first byte. `?tls=none` turns TLS off altogether (for a test server on loopback only), and
/// `?ssl_ca_certs=PATH` trusts the PEM certificates in `PATH` instead of the system's. The user and password
/// are percent-decoded. Its `description` never shows the password.
public struct SMTPServerURL: Sendable, Hashable, CustomStringConvertible {
    /// How the connection is protected.
    public enum Security: String, Sendable, Hashable {
        /// Plain at first, upgraded with STARTTLS when the server offers it; a password needs the upgrade.
        case startTLS
        /// TLS from the first byte (`smtps://`).
        case implicitTLS
        /// Never TLS (`?tls=none`): for a test server on loopback only.
        case none
    }

    /// The server's host name or address.
    public var host: String
    /// The server's port.
    public var port: Int
    /// The user for `AUTH`, if any.
    public var username: String?
    /// The password for `AUTH`, if any.
    public var password: DefenderSecret?
    /// How the connection is protected.
    public var security: Security
    /// A PEM file of CA certificates to trust instead of the system's (`?ssl_ca_certs=`).
    public var caCertificatesPath: String?

    /// Parses a `smtp://` or `smtps://` URL.
    /// - Throws: ``DefenderError`` naming `DEFENDER_SMTP_URL`; the message never quotes the password.
    public init(_ url: String) throws(DefenderError) {
        func fail(_ message: String) -> DefenderError {
            DefenderError(
                .invalidConfiguration, message + "; use smtp://[user:password@]host[:port] or smtps://…", setting: "DEFENDER_SMTP_URL")
        }
        guard let schemeEnd = url.range(of: "://") else { throw fail("not a URL") }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "smtp" || scheme == "smtps" else { throw fail("the scheme '\(scheme.prefix(16))' is not smtp or smtps") }
        var rest = Substring(url[schemeEnd.upperBound...])
        var query: Substring = ""
        // The query and the path start after the credentials: a '?' or '/' in an unencoded password is not one.
        let hostStart = rest.lastIndex(of: "@").map { rest.index(after: $0) } ?? rest.startIndex
        if let mark = rest[hostStart...].firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        if let slash = rest[hostStart...].firstIndex(of: "/") {
            guard rest[slash...] == "/" else { throw fail("a mail server's URL has no path") }
            rest = rest[..<slash]
        }
        var authority = rest
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            authority = rest[rest.index(after: at)...]
            let colon = userInfo.firstIndex(of: ":")
            let user = colon.map { userInfo[..<$0] } ?? userInfo
            guard let decodedUser = Self.percentDecoded(user) else { throw fail("the user is not percent-encoded correctly") }
            username = decodedUser.isEmpty ? nil : decodedUser
            if let colon {
                guard let decoded = Self.percentDecoded(userInfo[userInfo.index(after: colon)...]) else {
                    throw fail("the password is not percent-encoded correctly")
                }
                password = decoded.isEmpty ? nil : DefenderSecret(decoded)
            }
        }
        var hostPart = authority
        var portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw fail("an IPv6 address needs its closing ]") }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("unexpected text after the address") }
                portPart = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        }
        guard !hostPart.isEmpty, hostPart.utf8.count <= 253,
            hostPart.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":" || $0 == "_") })
        else { throw fail("the host is missing or not a host name or address") }
        host = String(hostPart)
        if let portPart {
            guard let number = Int(portPart), (1...65535).contains(number), portPart.allSatisfy(\.isASCIIDigit) else {
                throw fail("the port must be a number from 1 to 65535")
            }
            port = number
        } else {
            port = scheme == "smtps" ? 465 : 25
        }
        security = scheme == "smtps" ? .implicitTLS : .startTLS
        for item in query.split(separator: "&") {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(pair[0])
            let value = pair.count > 1 ? Self.percentDecoded(pair[1]) : nil
            switch (name, value) {
            case ("tls", "none"?) where scheme == "smtp": security = .none
            case ("tls", _): throw fail("tls= takes only none, and only with smtp://")
            case ("ssl_ca_certs", let path?) where !path.isEmpty: caCertificatesPath = path
            default: throw fail("unknown or empty parameter '\(name.prefix(32))'; accepted: tls=none, ssl_ca_certs=PATH")
            }
        }
        // The unlock links are capabilities: without TLS anyone on the path reads them (and the password).
        if security == .none, !Self.isLoopback(host) {
            throw fail("tls=none would send the mail (and its unlock link) in the clear to a server that is not on loopback")
        }
    }

    /// `smtp://user:********@host:port`.
    public var description: String {
        let scheme = security == .implicitTLS ? "smtps" : "smtp"
        let credentials = username.map { "\($0)\(password == nil ? "" : ":********")@" } ?? (password == nil ? "" : ":********@")
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(scheme)://\(credentials)\(shownHost):\(port)" + (security == .none ? "?tls=none" : "")
    }

    /// `localhost`, or an address literal in 127.0.0.0/8 or ::1 (read by the project's own strict parser:
    /// `127.evil.example` is a name, not an address).
    static func isLoopback(_ host: String) -> Bool {
        if host.lowercased() == "localhost" { return true }
        guard let address = IPAddress(host) else { return false }
        return loopback.contains(where: { $0.contains(address) })
    }

    private static let loopback = [IPNetwork("127.0.0.0/8")!, IPNetwork("::1/128")!]

    private static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
