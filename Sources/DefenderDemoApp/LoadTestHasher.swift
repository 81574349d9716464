import DefenderVapor
import Crypto
import Foundation
import Vapor

/// `DEMO_PASSWORD_HASH=sha256`: one salted SHA-256 — **insecure**, for load tests only, where it plays the part
/// of Django's `MD5PasswordHasher`: a hash so cheap that the cost of everything else shows.
struct LoadTestHasher: PasswordHasher {
    func hash<Password: DataProtocol>(_ password: Password) throws -> [UInt8] {
        let salt = [UInt8].random(count: 8).hexEncoded
        return Array("sha256$\(salt)$\(Self.digest(salt, password))".utf8)
    }

    func verify<Password: DataProtocol, Digest: DataProtocol>(_ password: Password, created digest: Digest) throws -> Bool {
        let parts = String(decoding: Array(digest), as: UTF8.self).split(separator: "$")
        guard parts.count == 3, parts[0] == "sha256" else { return false }
        let expected = Array(Self.digest(String(parts[1]), password).utf8)
        let given = Array(parts[2].utf8)
        guard expected.count == given.count else { return false }
        return zip(expected, given).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func digest<Password: DataProtocol>(_ salt: String, _ password: Password) -> String {
        SHA256.hash(data: Array(salt.utf8) + Array(password)).hexEncoded
    }
}
