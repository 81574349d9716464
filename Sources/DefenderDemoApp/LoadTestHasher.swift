import DefenderDemoSupport
import Vapor

/// Vapor's password hasher over `LoadTestHash` (`DEMO_PASSWORD_HASH=sha256`, load tests only).
struct LoadTestHasher: PasswordHasher {
    func hash<Password: DataProtocol>(_ password: Password) throws -> [UInt8] {
        Array(LoadTestHash.hash(Array(password)).utf8)
    }

    func verify<Password: DataProtocol, Digest: DataProtocol>(_ password: Password, created digest: Digest) throws -> Bool {
        LoadTestHash.verify(Array(password), stored: String(decoding: Array(digest), as: UTF8.self))
    }
}
