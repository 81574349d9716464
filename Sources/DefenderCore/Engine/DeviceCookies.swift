import Foundation

/// Issues and verifies device cookies (see ``DeviceCookieSettings``).
///
/// A cookie is `1.EXPIRY.DEVICE.MAC`: the version, the expiry in seconds since 1970, 16 random bytes in hex that
/// name the device, and an HMAC-SHA-256 over the three and the normalised username, in unpadded base64url. The
/// username is bound by the MAC and not written in the cookie, so the cookie tells nobody whose it is. The MAC
/// key is derived from each secret key for this use alone (`HMAC(secret, "defender/device-cookie/v1")`), so
/// nothing else signed with the secret can pass for a cookie.
public struct DeviceCookies: Sendable {
    /// The cookie's name.
    public let name: String
    /// How long a cookie is valid after the login that set it.
    public let age: Duration
    /// The keys derived for device cookies: the first signs, all verify.
    private let keys: SigningKeys

    /// The cookies of a configuration, or `nil` when ``DefenderConfiguration/secretKeys`` is empty (off).
    public init?(configuration: DefenderConfiguration) {
        guard configuration.deviceCookiesEnabled else { return nil }
        name = configuration.deviceCookies.name
        age = configuration.deviceCookies.age
        keys = SigningKeys(configuration.secretKeys, purpose: "defender/device-cookie/v1")
    }

    /// A new cookie value for `username`: a fresh device, valid for ``age`` from `now`.
    public func issue(for username: DefenderKey, now: Date = Date()) -> String {
        let device = SigningKeys.randomHex()
        let expiry = Int64(now.timeIntervalSince1970) + age.components.seconds
        let mac = keys.sign(Self.message(expiry: expiry, device: device, username: username))
        return "1.\(expiry).\(device).\(Base64URL.encode(mac))"
    }

    /// The device a cookie value names when it is a valid, unexpired cookie for `username` signed by one of the
    /// keys; `nil` for anything else — another username's cookie, an altered, forged or expired one, one signed by
    /// a key no longer configured, or garbage. Constant-time in the MAC.
    public func device(from value: String, for username: DefenderKey, now: Date = Date()) -> DefenderKey? {
        guard value.utf8.count <= 128 else { return nil }
        let parts = value.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0].elementsEqual("1".utf8),
            parts[1].count <= 12, parts[1].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let expiry = Int64(String(decoding: parts[1], as: UTF8.self)),
            SigningKeys.isRandomHex(parts[2]),
            let mac = Base64URL.decode(parts[3]), mac.count == 32
        else { return nil }
        guard Double(expiry) > now.timeIntervalSince1970 else { return nil }
        let device = String(decoding: parts[2], as: UTF8.self)
        let message = Self.message(expiry: expiry, device: device, username: username)
        guard keys.verify(mac, of: message) else { return nil }
        return DefenderKey(kind: .device, normalizedValue: device)
    }

    /// The `Set-Cookie` field value for a cookie: `HttpOnly`, `SameSite=Lax`, `Path=/`, `Max-Age` of ``age``, and
    /// `Secure` when the client reached the site over TLS.
    public func setCookie(_ value: String, secure: Bool) -> String {
        "\(name)=\(value); Max-Age=\(age.components.seconds); Path=/; HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "")
    }

    /// The values of this cookie in `Cookie` header fields, first to last, at most four (a browser sends one per
    /// path; more is an attempt to make the server check many).
    public func values(inCookieFields fields: some Sequence<String>) -> [String] {
        var found: [String] = []
        for field in fields {
            for pair in field.utf8.split(separator: UInt8(ascii: ";")) {
                guard let equals = pair.firstIndex(of: UInt8(ascii: "=")) else { continue }
                let key = pair[..<equals].drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
                guard key.elementsEqual(name.utf8) else { continue }
                var value = pair[pair.index(after: equals)...]
                while let last = value.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { value = value.dropLast() }
                if value.count >= 2, value.first == UInt8(ascii: "\""), value.last == UInt8(ascii: "\"") { value = value.dropFirst().dropLast() }
                found.append(String(decoding: value, as: UTF8.self))
                if found.count == 4 { return found }
            }
        }
        return found
    }

    private static func message(expiry: Int64, device: String, username: DefenderKey) -> Data {
        Data("defender-device|1|\(expiry)|\(device)|\(username.value)".utf8)
    }
}

/// Unpadded base64url (RFC 4648 §5), strict: a value that another encoder would write differently is refused,
/// so that one MAC has one spelling.
package enum Base64URL {
    package static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    package static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        guard text.allSatisfy({ byte in
            (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }) else { return nil }
        var standard = String(decoding: text, as: UTF8.self).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        standard += String(repeating: "=", count: (4 - standard.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: standard) else { return nil }
        let bytes = [UInt8](data)
        return encode(bytes).utf8.elementsEqual(text) ? bytes : nil
    }
}
