import Foundation

/// What an `Authorization` header holds, as far as Basic authentication is concerned: the one reading of HTTP Basic
/// credentials, for every integration. The username it yields is both counted and handed to the password check.
package enum BasicCredentials: Equatable, Sendable {
    /// No header, or another scheme: not a Basic login attempt.
    case absent
    /// Over `maximumHeaderLength`.
    case tooLarge
    /// A Basic attempt that cannot be checked; the username when one could be read.
    case malformed(username: String?)
    case credentials(username: String, password: String)

    /// The longest `Authorization` header read.
    package static let maximumHeaderLength = 4096

    /// Reads the request's `Authorization` values (two or more are malformed: which would the app read?).
    package static func parse(_ values: [String]) -> BasicCredentials {
        guard let header = values.first else { return .absent }
        guard header.utf8.count <= maximumHeaderLength, values.count == 1 else {
            return values.count > 1 ? .malformed(username: nil) : .tooLarge
        }
        let parts = header.split(separator: " ", omittingEmptySubsequences: true)
        guard let scheme = parts.first, scheme.lowercased() == "basic" else { return .absent }
        guard parts.count == 2, let decoded = Data(base64Encoded: String(parts[1])) else { return .malformed(username: nil) }
        // RFC 7617 allows UTF-8; other bytes are replaced, as in form bodies.
        // The first colon byte (RFC 7617): by `Character`, a colon glued to a combining mark after it is no colon.
        guard let colon = decoded.firstIndex(of: UInt8(ascii: ":")) else {
            let text = String(decoding: decoded, as: UTF8.self)
            return .malformed(username: text.isEmpty ? nil : text)
        }
        let username = String(decoding: decoded[..<colon], as: UTF8.self)
        let password = String(decoding: decoded[decoded.index(after: colon)...], as: UTF8.self)
        guard !username.isEmpty else { return .malformed(username: nil) }
        return .credentials(username: username, password: password)
    }
}
