@testable import DefenderCore
import DefenderTesting
import Testing

/// The refusal by address alone (`lockoutByAddress`), which the integrations ask before reading a username: it
/// may only ever refuse what the full check refuses, in every mode and with every list, and it must refuse the
/// attack's requests.
@Suite struct AddressRefusalTests {
    static let ips = ["198.51.100.1", "198.51.100.2", "100.64.0.7", "192.0.2.9"]
    static let usernames = ["alice", "bob", "carol", "root"]

    /// 300 random configurations (fixed seed) — AND mode, a disabled dimension, allow and deny lists of either
    /// kind, dry run, a shared range, escalation — each with a random history of failures, successes and
    /// operators' blocks and unblocks; after every step, every address with every username (and none): whenever
    /// the address alone refuses, the full check refuses too. The plain configurations must see refusals by
    /// address, so the property is not satisfied vacuously.
    @Test func neverRefusesWhatTheFullCheckAdmits() async throws {
        var random = SplitMix64(seed: 0xADD2E55)
        var refusedByAddress = 0
        for round in 0..<300 {
            var config = DefenderConfiguration()
            let plain = round % 3 == 0
            if !plain {
                config.lockOutByIPAndUsername = random.next() % 3 == 0
                config.disableIPLockout = random.next() % 5 == 0
                config.disableUsernameLockout = random.next() % 5 == 0
                config.dryRun = random.next() % 6 == 0
                if random.next() % 4 == 0 { config.usernameAllowlist = [Self.usernames[Int(random.next() % 4)]] }
                if random.next() % 4 == 0 { config.usernameDenylist = [Self.usernames[Int(random.next() % 4)]] }
                if random.next() % 4 == 0 { config.ipAllowlist = [IPNetwork(Self.ips[Int(random.next() % 4)] + "/32")!] }
                if random.next() % 4 == 0 { config.ipDenylist = [IPNetwork(Self.ips[Int(random.next() % 4)] + "/32")!] }
                config.sharedIPRangesBuiltIn = random.next() % 2 == 0
                if random.next() % 3 == 0 { config.lockoutCooloffTimes = [.seconds(60), .seconds(600)] }
            }
            try config.validate()
            let clock = ManualClock()
            let engine = Defender(configuration: config, store: MemoryAttemptStore(capacity: 1000, clock: clock))
            for _ in 0..<30 {
                let ip = Self.ips[Int(random.next() % 4)]
                let username = Self.usernames[Int(random.next() % 4)]
                switch random.next() % 10 {
                case 0: _ = try await engine.block(ip: ip)
                case 1: _ = try await engine.unblock(ip: ip)
                case 2: _ = try await engine.block(username: username)
                case 3: clock.advance(by: .seconds(Int64(random.next() % 400)))
                default: _ = try await engine.login(ip: ip, username: username, correctPassword: random.next() % 4 == 0)
                }
                for probeIP in Self.ips {
                    let client = engine.resolver.client(IPAddress(probeIP)!)
                    guard let early = try await engine.lockoutByAddress(client) else { continue }
                    refusedByAddress += 1
                    for probeUsername in Self.usernames + [""] {
                        switch try await engine.check(ip: client, username: probeUsername) {
                        case .locked:
                            break
                        case .allowed(let attempt):
                            try await engine.release(attempt)
                            Issue.record("round \(round): \(probeIP) refused by address (\(early)) but \(probeUsername) admitted; \(config)")
                        }
                    }
                }
            }
        }
        #expect(refusedByAddress > 500, "refusals by address: \(refusedByAddress)")
    }

    /// The settings where a username can change the answer never refuse by address: a dry run, an allow- or
    /// deny-listed username, an address on a list or in a shared range.
    @Test func answersOnlyWhereNoUsernameCan() async throws {
        for change in [
            { (config: inout DefenderConfiguration) in config.dryRun = true },
            { config in config.usernameAllowlist = ["vip"] },
            { config in config.usernameDenylist = ["admin"] },
            { config in config.ipAllowlist = [IPNetwork("198.51.100.1/32")!] },
            { config in config.ipDenylist = [IPNetwork("198.51.100.1/32")!] },
            { config in config.sharedIPRanges = [IPNetwork("198.51.100.0/24")!] },
        ] as [(inout DefenderConfiguration) -> Void] {
            var config = DefenderConfiguration()
            change(&config)
            try config.validate()
            let engine = Defender(configuration: config)
            _ = try await engine.block(ip: "198.51.100.1")
            #expect(try await engine.lockoutByAddress(engine.resolver.client(IPAddress("198.51.100.1")!)) == nil, "\(config)")
        }
        let engine = Defender(configuration: DefenderConfiguration())
        _ = try await engine.block(ip: "198.51.100.1")
        #expect(try await engine.lockoutByAddress(engine.resolver.client(IPAddress("198.51.100.1")!)) != nil)
        #expect(try await engine.lockoutByAddress(engine.resolver.client(IPAddress("198.51.100.2")!)) == nil)
    }
}
