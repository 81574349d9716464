import Crypto
import Foundation

/// A short HMAC-SHA-256 tag of a text under a key, for values a server hands to a browser and must recognise as
/// its own when they come back (the admin's notice after a form, tied to the session's CSRF token).
package enum KeyedDigest {
    /// The first 16 bytes of `HMAC-SHA-256(key, purpose ‖ 0 ‖ text)`, in hex. `purpose` keeps a tag made for one use
    /// from passing for another made with the same key.
    package static func tag(_ text: String, key: String, purpose: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data((purpose + "\u{0}" + text).utf8), using: SymmetricKey(data: Data(key.utf8)))
        return mac.prefix(16).hexEncoded
    }

    /// `HMAC-SHA-256(key, bytes)` in hex, whole: a signature a receiver recomputes over the bytes it got.
    package static func signature(of bytes: some Sequence<UInt8>, key: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(bytes), using: SymmetricKey(data: Data(key.utf8))).hexEncoded
    }
}
