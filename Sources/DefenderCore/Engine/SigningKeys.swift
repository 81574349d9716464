import Crypto
import Foundation

/// The keys of one purpose (device cookies, unlock links), derived from the configured secret keys: the first
/// signs, every one verifies, so that a secret can be rotated — the new one first, the old one kept until what it
/// signed has expired.
///
/// Each key is `HMAC-SHA-256(secret, purpose)`, so that nothing signed for one purpose, or with the secret itself,
/// passes for another. Verification is constant-time in the MAC.
package struct SigningKeys: Sendable {
    /// The derived keys' bytes (`SymmetricKey` is not `Sendable`).
    private let keys: [Data]

    /// The keys of `purpose` (such as `defender/device-cookie/v1`); `secrets` must not be empty.
    package init(_ secrets: [DefenderSecret], purpose: String) {
        precondition(!secrets.isEmpty, "signing needs at least one secret key")
        keys = secrets.map { secret in
            Data(HMAC<SHA256>.authenticationCode(for: Data(purpose.utf8), using: SymmetricKey(data: Data(secret.value.utf8))))
        }
    }

    /// `HMAC-SHA-256` of `message` under the first key.
    package func sign(_ message: Data) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: keys[0])))
    }

    /// Whether `mac` is the `HMAC-SHA-256` of `message` under one of the keys.
    package func verify(_ mac: [UInt8], of message: Data) -> Bool {
        keys.contains { HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: message, using: SymmetricKey(data: $0)) }
    }

    /// `byteCount` random bytes from the system's generator, in lower-case hex: the unguessable part of a cookie, a
    /// link or a token.
    package static func randomHex(byteCount: Int = 16) -> String {
        var random = SystemRandomNumberGenerator()
        return (0..<byteCount).map { _ in UInt8.random(in: 0...255, using: &random) }.hexEncoded
    }

    /// Whether `text` is what `randomHex()` writes by default: 32 lower-case hex digits.
    package static func isRandomHex(_ text: some Collection<UInt8>) -> Bool {
        text.count == 32 && text.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
