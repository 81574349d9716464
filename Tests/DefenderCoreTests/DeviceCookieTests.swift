@testable import DefenderCore
import DefenderTesting
import Foundation
import Testing

/// Device cookies: the signed value, its settings, and the engine's rules on the memory store (`RedisStoreTests`
/// runs the same contract against redis-server).
@Suite struct DeviceCookieTests {
    let clock = ManualClock()
    var contract: AttemptStoreContract { .memory(clock: clock) }

    static let keyA = "a-first-secret-key-of-at-least-32-chars"
    static let keyB = "b-second-secret-key-of-at-least-32-chars"

    static func cookies(_ keys: [String], age days: Int = 365) throws -> DeviceCookies {
        var config = DefenderConfiguration()
        config.secretKeys = keys.map(DefenderSecret.init)
        config.deviceCookies.age = .seconds(days * 86400)
        try config.validate()
        return try #require(DeviceCookies(configuration: config))
    }

    static let alice = DefenderKey.username("alice")!

    @Test func aTrustedDeviceIsNotRefusedByAUsernameLockout() async throws { try await contract.aTrustedDeviceIsNotRefusedByAUsernameLockout() }
    @Test func guessesThroughADeviceLockTheDeviceAlone() async throws { try await contract.guessesThroughADeviceLockTheDeviceAlone() }
    @Test func aTrustedDeviceStillMeetsIPBlocks() async throws { try await contract.aTrustedDeviceStillMeetsIPBlocks() }
    @Test func concurrentGuessesThroughADeviceGetNoExtraChecks() async throws { try await contract.concurrentGuessesThroughADeviceGetNoExtraChecks() }
    @Test func anOperatorsBlockStopsTrustedDevices() async throws { try await contract.anOperatorsBlockStopsTrustedDevices() }
    @Test func aStolenCookieGetsNoMoreGuessesPerLongWindow() async throws { try await contract.aStolenCookieGetsNoMoreGuessesPerLongWindow() }

    /// A cookie names a device for its own username only; the username is normalised first and never written in
    /// the cookie; each issue is a new device.
    @Test func aCookieIsBoundToItsUsername() throws {
        let cookies = try Self.cookies([Self.keyA])
        let value = cookies.issue(for: Self.alice)
        let device = try #require(cookies.device(from: value, for: Self.alice))
        #expect(device.kind == .device && device.value.utf8.count == 32)
        #expect(cookies.device(from: value, for: DefenderKey.username(" ALICE ")!) == device)
        #expect(cookies.device(from: value, for: DefenderKey.username("bob")!) == nil)
        #expect(!value.contains("alice"))
        #expect(cookies.device(from: cookies.issue(for: Self.alice), for: Self.alice) != device)
    }

    /// Rotation: the first key signs, every key verifies; a key no longer listed verifies nothing.
    @Test func keyRotation() throws {
        let old = try Self.cookies([Self.keyA]).issue(for: Self.alice)
        let rotated = try Self.cookies([Self.keyB, Self.keyA])
        #expect(rotated.device(from: old, for: Self.alice) != nil)
        let new = rotated.issue(for: Self.alice)
        #expect(try Self.cookies([Self.keyB]).device(from: new, for: Self.alice) != nil)
        #expect(try Self.cookies([Self.keyA]).device(from: new, for: Self.alice) == nil)
        #expect(try Self.cookies([Self.keyB]).device(from: old, for: Self.alice) == nil)
    }

    /// A cookie lapses at its expiry, and `Set-Cookie` says so with `Max-Age`.
    @Test func expiry() throws {
        let cookies = try Self.cookies([Self.keyA], age: 2)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let value = cookies.issue(for: Self.alice, now: now)
        #expect(cookies.device(from: value, for: Self.alice, now: now.addingTimeInterval(2 * 86400 - 1)) != nil)
        #expect(cookies.device(from: value, for: Self.alice, now: now.addingTimeInterval(2 * 86400)) == nil)
        #expect(cookies.setCookie(value, secure: false) == "defender_device=\(value); Max-Age=172800; Path=/; HttpOnly; SameSite=Lax")
        #expect(cookies.setCookie(value, secure: true).hasSuffix("; SameSite=Lax; Secure"))
    }

    /// Every single-byte change of a valid cookie (1,000 random ones, fixed seed), and a cookie with a re-signed
    /// expiry, a truncated MAC or garbage, verifies nothing; the same MAC spelled with padding is refused too.
    @Test func alteredCookiesVerifyNothing() throws {
        let cookies = try Self.cookies([Self.keyA])
        let value = Array(cookies.issue(for: Self.alice).utf8)
        var random = SplitMix64(seed: 0xC00C1E)
        let alphabet = Array("0123456789abcdefABCDEF._-=+/ ".utf8)
        for _ in 0..<1_000 {
            var changed = value
            let index = Int(random.next() % UInt64(changed.count))
            let byte = alphabet[Int(random.next() % UInt64(alphabet.count))]
            guard byte != changed[index] else { continue }
            changed[index] = byte
            #expect(cookies.device(from: String(decoding: changed, as: UTF8.self), for: Self.alice) == nil, "\(String(decoding: changed, as: UTF8.self))")
        }
        let text = String(decoding: value, as: UTF8.self)
        let parts = text.split(separator: ".")
        for bad in [
            "", "1", "1...", String(text.dropLast()), text + "A", text + "=", "2." + parts.dropFirst().joined(separator: "."),
            "1.99999999999.\(parts[2]).\(parts[3])", String(repeating: "A", count: 10_000), "1.-5.\(parts[2]).\(parts[3])",
        ] {
            #expect(cookies.device(from: bad, for: Self.alice) == nil, "\(bad.prefix(80))")
        }
    }

    /// The `Cookie` fields are read the way browsers write them: several fields and pairs, spaces, a quoted
    /// value, other cookies around it, at most four values.
    @Test func readingCookieFields() throws {
        let cookies = try Self.cookies([Self.keyA])
        #expect(cookies.values(inCookieFields: ["a=1; defender_device=x1;b=2", "defender_device=\"x2\" "]) == ["x1", "x2"])
        #expect(cookies.values(inCookieFields: ["defender_devicex=1; xdefender_device=2; defender_device"]) == [])
        #expect(cookies.values(inCookieFields: [String(repeating: "defender_device=v;", count: 100)]).count == 4)
    }

    /// `DEFENDER_SECRET_KEY` and the device settings from the environment; bad values stop start-up with an
    /// error that names the variable and never quotes a key; the configuration never prints a key.
    @Test func settings() throws {
        let config = try DefenderConfiguration.fromEnvironment([
            "DEFENDER_SECRET_KEY": "\(Self.keyB), \(Self.keyA)", "DEFENDER_DEVICE_COOKIE_NAME": "__Host-device",
            "DEFENDER_DEVICE_COOKIE_AGE": "30", "DEFENDER_DEVICE_FAILURE_LIMIT": "5",
        ])
        #expect(config.secretKeys.map(\.value) == [Self.keyB, Self.keyA] && config.deviceCookiesEnabled)
        #expect(config.deviceCookies.name == "__Host-device" && config.deviceCookies.age == .seconds(30 * 86400))
        #expect(config.deviceFailureLimit == 5 && DefenderConfiguration().deviceFailureLimit == 3 && !DefenderConfiguration().deviceCookiesEnabled)
        #expect(!"\(config)".contains("secret-key") && !String(reflecting: config).contains("secret-key"))
        let engine = Defender(configuration: config)
        #expect(engine.policy(for: LoginAttempt(ip: engine.resolver.client(IPAddress("10.0.0.1")!), submittedUsername: "a")).usernameLimit == 3)

        let short = "too-short-but-secret"
        for (name, value, message) in [
            ("DEFENDER_SECRET_KEY", short, "has 20 characters"), ("DEFENDER_SECRET_KEY", "\(Self.keyA),", "key 2 of 2 is empty"),
            ("DEFENDER_SECRET_KEY", "\(Self.keyA),\(short)", "key 2 of 2 has 20"), ("DEFENDER_SECRET_KEY", "a b c d e f g h i j k l m n o p q r s", "space"),
            ("DEFENDER_DEVICE_COOKIE_NAME", "bad name", "cookie name"), ("DEFENDER_DEVICE_COOKIE_NAME", "a;b", "cookie name"),
            ("DEFENDER_DEVICE_COOKIE_AGE", "0", "1 to 3650"), ("DEFENDER_DEVICE_COOKIE_AGE", "4000", "1 to 3650"),
            ("DEFENDER_DEVICE_COOKIE_AGE", "-1", "whole number"), ("DEFENDER_DEVICE_FAILURE_LIMIT", "0", "from 1"),
        ] {
            let error = #expect(throws: DefenderError.self, "\(name)=\(value)") { try DefenderConfiguration.fromEnvironment([name: value]) }
            #expect(error?.setting == name)
            #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
            #expect(error.map { !"\($0)".contains(short) && !"\($0)".contains(Self.keyA) } == true)
        }
        #expect(DefenderSecret("hidden").description == "********" && Mirror(reflecting: DefenderSecret("hidden")).children.isEmpty)
    }

    /// A trusted client's policy: the device's limit, a username's long window; every other rule as the engine's.
    @Test func theTrustedPolicy() {
        var config = DefenderConfiguration()
        config.longWindowFailureLimit = 10
        config.loginFailureLimitUsername = 50
        let policy = LockoutPolicy(config)
        let trusted = policy.trustingDevice(limit: 7)
        #expect(trusted.usernameLimit == 7 && trusted.longWindowUsernameLimit == 10 && trusted.ipLimit == policy.ipLimit)
        #expect(policy.longWindowUsernameLimit == 50 && policy.trustingDevice(limit: 12).longWindowUsernameLimit == 12)
        config.longWindowFailureLimit = 0
        #expect(LockoutPolicy(config).trustingDevice(limit: 7).longWindowUsernameLimit == 0)
        #expect(trusted.limit(of: .device) == 7 && policy.limit(of: .device) == policy.usernameLimit)
        #expect(trusted.longWindowIPLimit == policy.longWindowIPLimit)
    }

    /// Events and their names for devices and trusted logins.
    @Test func events() {
        let device = DefenderKey(kind: .device, normalizedValue: String(repeating: "ab", count: 16))
        #expect(DefenderEvent(key: device, blocked: true) == .deviceBlocked(device.value) && DefenderEvent.deviceBlocked(device.value).isBlock)
        #expect(DefenderEvent(key: device, blocked: false).name == "deviceUnblocked" && DefenderEvent.deviceUnblocked(device.value).key == device)
        let trusted = DefenderEvent.trustedLoginDuringLockout(username: "alice")
        #expect(!trusted.isBlock && trusted.key == Self.alice && trusted.name == "trustedLoginDuringLockout")
    }
}
