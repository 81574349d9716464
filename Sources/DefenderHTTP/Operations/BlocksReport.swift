import DefenderCore

/// Active blocks as the admin API and `defender blocks --json` show them.
public struct BlocksReport: Codable, Equatable, Sendable {
    /// A blocked IP (or IPv6 group).
    public struct IPBlock: Codable, Equatable, Sendable {
        /// The address or group.
        public var ip: String
        /// `nil`: permanent.
        public var secondsLeft: Int?
        /// Whether an operator set it.
        public var manual: Bool
        /// Automatic lockouts within `ACCESS_ATTEMPT_EXPIRATION`.
        public var lockouts: Int

        /// A row of the report.
        public init(ip: String, secondsLeft: Int?, manual: Bool, lockouts: Int) {
            self.ip = ip
            self.secondsLeft = secondsLeft
            self.manual = manual
            self.lockouts = lockouts
        }

        /// `secondsLeft` is written as `null` when permanent, never left out (DESIGN §5).
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(ip, forKey: .ip)
            try container.encode(secondsLeft, forKey: .secondsLeft)
            try container.encode(manual, forKey: .manual)
            try container.encode(lockouts, forKey: .lockouts)
        }
    }

    /// A blocked username.
    public struct UsernameBlock: Codable, Equatable, Sendable {
        /// The normalised username.
        public var username: String
        /// `nil`: permanent.
        public var secondsLeft: Int?
        /// Whether an operator set it.
        public var manual: Bool
        /// Automatic lockouts within `ACCESS_ATTEMPT_EXPIRATION`.
        public var lockouts: Int

        /// A row of the report.
        public init(username: String, secondsLeft: Int?, manual: Bool, lockouts: Int) {
            self.username = username
            self.secondsLeft = secondsLeft
            self.manual = manual
            self.lockouts = lockouts
        }

        /// `secondsLeft` is written as `null` when permanent, never left out (DESIGN §5).
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(username, forKey: .username)
            try container.encode(secondsLeft, forKey: .secondsLeft)
            try container.encode(manual, forKey: .manual)
            try container.encode(lockouts, forKey: .lockouts)
        }
    }

    /// A trusted browser's device, blocked after failures through its device cookie.
    public struct DeviceBlock: Codable, Equatable, Sendable {
        /// The device cookie's identifier (32 hex digits).
        public var device: String
        /// Seconds until the block lapses.
        public var secondsLeft: Int?
        /// Whether an operator set it.
        public var manual: Bool
        /// Lockouts of this device within the history window.
        public var lockouts: Int

        /// A blocked device.
        public init(device: String, secondsLeft: Int?, manual: Bool, lockouts: Int) {
            self.device = device
            self.secondsLeft = secondsLeft
            self.manual = manual
            self.lockouts = lockouts
        }

        /// Encodes every field, `secondsLeft` as `null` for a permanent block, as the other lists do.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(device, forKey: .device)
            try container.encode(secondsLeft, forKey: .secondsLeft)
            try container.encode(manual, forKey: .manual)
            try container.encode(lockouts, forKey: .lockouts)
        }
    }

    /// A username blocked at one shared address (`DEFENDER_SHARED_IP_RANGES`).
    public struct PairBlock: Codable, Equatable, Sendable {
        /// The shared address (or IPv6 group).
        public var ip: String
        /// The normalised username.
        public var username: String
        /// `nil`: permanent.
        public var secondsLeft: Int?
        /// Whether an operator set it.
        public var manual: Bool
        /// Automatic lockouts within `ACCESS_ATTEMPT_EXPIRATION`.
        public var lockouts: Int

        /// A row of the report.
        public init(ip: String, username: String, secondsLeft: Int?, manual: Bool, lockouts: Int) {
            self.ip = ip
            self.username = username
            self.secondsLeft = secondsLeft
            self.manual = manual
            self.lockouts = lockouts
        }

        /// `secondsLeft` is written as `null` when permanent, never left out (DESIGN §5).
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(ip, forKey: .ip)
            try container.encode(username, forKey: .username)
            try container.encode(secondsLeft, forKey: .secondsLeft)
            try container.encode(manual, forKey: .manual)
            try container.encode(lockouts, forKey: .lockouts)
        }
    }

    /// Blocked IPs, by address.
    public var ips: [IPBlock]
    /// Blocked usernames, by name.
    public var usernames: [UsernameBlock]
    /// Usernames blocked at a shared address, by address and name (beside DESIGN §5's two lists; absent in the
    /// JSON of older releases, so it decodes as empty).
    public var pairs: [PairBlock]
    /// Trusted devices blocked after failures through their device cookie (absent in the JSON of older
    /// releases, so it decodes as empty).
    public var devices: [DeviceBlock]

    /// A report.
    public init(ips: [IPBlock], usernames: [UsernameBlock], pairs: [PairBlock] = [], devices: [DeviceBlock] = []) {
        self.ips = ips
        self.usernames = usernames
        self.devices = devices
        self.pairs = pairs
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        ips = try container.decode([IPBlock].self, forKey: .ips)
        usernames = try container.decode([UsernameBlock].self, forKey: .usernames)
        pairs = try container.decodeIfPresent([PairBlock].self, forKey: .pairs) ?? []
        devices = try container.decodeIfPresent([DeviceBlock].self, forKey: .devices) ?? []
    }

    /// Every active block of the engine's store, read page by page.
    public static func read(from engine: Defender) async throws -> BlocksReport {
        BlocksReport(
            ips: try await engine.allBlocks(of: .ip).map { IPBlock(ip: $0.key.value, secondsLeft: $0.secondsLeft, manual: $0.isManual, lockouts: $0.lockoutCount) },
            usernames: try await engine.allBlocks(of: .username).map {
                UsernameBlock(username: $0.key.value, secondsLeft: $0.secondsLeft, manual: $0.isManual, lockouts: $0.lockoutCount)
            },
            pairs: try await engine.allBlocks(of: .pair).map { block in
                PairBlock(
                    ip: block.key.pairAddress?.value ?? "", username: block.key.pairUsername ?? block.key.value, secondsLeft: block.secondsLeft,
                    manual: block.isManual, lockouts: block.lockoutCount)
            },
            devices: try await engine.allBlocks(of: .device).map {
                DeviceBlock(device: $0.key.value, secondsLeft: $0.secondsLeft, manual: $0.isManual, lockouts: $0.lockoutCount)
            })
    }
}

extension BlockInfo {
    /// Whole seconds left, rounded up; `nil` when permanent.
    public var secondsLeft: Int? {
        remaining.map { Lockout(keys: [], retryAfter: $0).retryAfterSeconds ?? 0 }
    }
}
