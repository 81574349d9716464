import DefenderVapor
import Vapor

/// Active blocks as the admin API and `defender blocks --json` show them.
public struct BlocksReport: Content, Equatable {
    public struct IPBlock: Codable, Equatable, Sendable {
        public var ip: String
        /// `nil`: permanent.
        public var secondsLeft: Int?
        public var manual: Bool
        /// Automatic lockouts within `ACCESS_ATTEMPT_EXPIRATION`.
        public var lockouts: Int

        public init(ip: String, secondsLeft: Int?, manual: Bool, lockouts: Int) {
            self.ip = ip
            self.secondsLeft = secondsLeft
            self.manual = manual
            self.lockouts = lockouts
        }
    }

    public struct UsernameBlock: Codable, Equatable, Sendable {
        public var username: String
        public var secondsLeft: Int?
        public var manual: Bool
        public var lockouts: Int

        public init(username: String, secondsLeft: Int?, manual: Bool, lockouts: Int) {
            self.username = username
            self.secondsLeft = secondsLeft
            self.manual = manual
            self.lockouts = lockouts
        }
    }

    public var ips: [IPBlock]
    public var usernames: [UsernameBlock]

    public init(ips: [IPBlock], usernames: [UsernameBlock]) {
        self.ips = ips
        self.usernames = usernames
    }

    /// Every active block of the engine's store, read page by page.
    public static func read(from engine: Defender) async throws -> BlocksReport {
        BlocksReport(
            ips: try await engine.allBlocks(of: .ip).map { IPBlock(ip: $0.key.value, secondsLeft: $0.secondsLeft, manual: $0.isManual, lockouts: $0.lockoutCount) },
            usernames: try await engine.allBlocks(of: .username).map {
                UsernameBlock(username: $0.key.value, secondsLeft: $0.secondsLeft, manual: $0.isManual, lockouts: $0.lockoutCount)
            })
    }
}

extension BlockInfo {
    /// Whole seconds left, rounded up; `nil` when permanent.
    public var secondsLeft: Int? {
        remaining.map { Lockout(keys: [], retryAfter: $0).retryAfterSeconds ?? 0 }
    }
}
