import Crypto
import DefenderCore

/// `DEMO_PASSWORD_HASH=sha256`: one salted SHA-256 — **insecure**, for load tests only, where it plays the part
/// of Django's `MD5PasswordHasher`: a hash so cheap that the cost of everything else shows.
public enum LoadTestHash {
    /// `sha256$SALT$HEX` for `password`.
    public static func hash(_ password: some Collection<UInt8>) -> String {
        let salt = (0..<8).map { _ in UInt8.random(in: 0...255) }.hexEncoded
        return "sha256$\(salt)$\(digest(salt, password))"
    }

    /// Whether `password` matches `stored` (compared in constant time).
    public static func verify(_ password: some Collection<UInt8>, stored: String) -> Bool {
        let parts = stored.split(separator: "$")
        guard parts.count == 3, parts[0] == "sha256" else { return false }
        let expected = Array(digest(String(parts[1]), password).utf8)
        let given = Array(parts[2].utf8)
        guard expected.count == given.count else { return false }
        return zip(expected, given).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func digest(_ salt: String, _ password: some Collection<UInt8>) -> String {
        SHA256.hash(data: Array(salt.utf8) + Array(password)).hexEncoded
    }
}
