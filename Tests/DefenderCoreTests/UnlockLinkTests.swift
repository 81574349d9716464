@testable import DefenderCore
import DefenderTesting
import Foundation
import Testing

/// Unlock links: the signed token, and the store's ledger on the memory store (`RedisStoreTests` runs the same
/// contract against redis-server).
@Suite struct UnlockLinkTests {
    let clock = ManualClock()
    var contract: AttemptStoreContract { .memory(clock: clock) }

    static let keyA = "a-first-secret-key-of-at-least-32-chars"
    static let keyB = "b-second-secret-key-of-at-least-32-chars"
    static let alice = DefenderKey.username("alice")!
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func links(_ keys: [String], ttl seconds: Int64 = 3600) throws -> UnlockLinks {
        var config = DefenderConfiguration()
        config.secretKeys = keys.map(DefenderSecret.init)
        config.unlockMail.linkTTL = .seconds(seconds)
        try config.validate()
        return try #require(UnlockLinks(configuration: config))
    }

    @Test func theDailyLimitCountsMails() async throws { try await contract.theDailyLimitCountsMails() }
    @Test func aDayLaterMailsAgain() async throws { try await contract.aDayLaterMailsAgain() }
    @Test func everyMailedLinkWorksUntilOneIsUsed() async throws { try await contract.everyMailedLinkWorksUntilOneIsUsed() }
    @Test func theOldestLinksGoBeyondTheCap() async throws { try await contract.theOldestLinksGoBeyondTheCap() }
    @Test func aLinkExpires() async throws { try await contract.aLinkExpires() }
    @Test func racingRedemptionsUnlockOnce() async throws { try await contract.racingRedemptionsUnlockOnce() }
    @Test func aLinkLiftsTheUsernameAlone() async throws { try await contract.aLinkLiftsTheUsernameAlone() }
    @Test func aLinkDoesNotLiftAnOperatorsBlock() async throws { try await contract.aLinkDoesNotLiftAnOperatorsBlock() }

    /// A token reads back its username (normalised) and nonce, works until its expiry and not after, and is new
    /// each time; without a secret key there are no links.
    @Test func aTokenNamesItsUsernameAndLockout() throws {
        let links = try Self.links([Self.keyA], ttl: 600)
        let (token, nonce) = links.issue(for: try #require(DefenderKey.username(" Alice ")), now: Self.now)
        let read = try links.read(token, now: Self.now).get()
        #expect(read.username == Self.alice && read.nonce == nonce && nonce.utf8.count == 32)
        #expect(read.expires == Self.now.addingTimeInterval(600))
        #expect(links.read(token, now: Self.now.addingTimeInterval(599)).isSuccess)
        #expect(links.read(token, now: Self.now.addingTimeInterval(600)) == .failure(.expired))
        #expect(links.issue(for: Self.alice, now: Self.now).token != token)
        #expect(UnlockLinks(configuration: DefenderConfiguration()) == nil)
    }

    /// Rotation: tokens signed with the previous key still work; a key no longer listed verifies nothing.
    @Test func keyRotation() throws {
        let old = try Self.links([Self.keyA]).issue(for: Self.alice, now: Self.now).token
        #expect(try Self.links([Self.keyB, Self.keyA]).read(old, now: Self.now).isSuccess)
        #expect(try Self.links([Self.keyB]).read(old, now: Self.now) == .failure(.invalid))
    }

    /// Every single-byte change of a valid token (1,000 random ones, fixed seed), a re-dated or re-addressed
    /// token, a device cookie signed with the same secret, a truncated MAC, and garbage are all `invalid`.
    @Test func alteredTokensAreInvalid() throws {
        let links = try Self.links([Self.keyA])
        let token = links.issue(for: Self.alice, now: Self.now).token
        var random = SplitMix64(seed: 0x0111_0C4B)
        let alphabet = Array("0123456789abcdefABCDEF._-=+/ %".utf8)
        let bytes = Array(token.utf8)
        for _ in 0..<1_000 {
            var changed = bytes
            let index = Int(random.next() % UInt64(changed.count))
            let byte = alphabet[Int(random.next() % UInt64(alphabet.count))]
            guard byte != changed[index] else { continue }
            changed[index] = byte
            let text = String(decoding: changed, as: UTF8.self)
            #expect(links.read(text, now: Self.now) == .failure(.invalid), "\(text)")
        }
        let parts = token.split(separator: ".").map(String.init)
        let bob = Base64URL.encode(Array("bob".utf8))
        var config = DefenderConfiguration()
        config.secretKeys = [DefenderSecret(Self.keyA)]
        let cookie = try #require(DeviceCookies(configuration: config)).issue(for: Self.alice, now: Self.now)
        for bad in [
            "", "1", "1....", String(token.dropLast()), token + "A", token + "=", "2." + parts.dropFirst().joined(separator: "."),
            [parts[0], "9999999999", parts[2], parts[3], parts[4]].joined(separator: "."),
            [parts[0], parts[1], parts[2], bob, parts[4]].joined(separator: "."),
            [parts[0], parts[1], parts[2].uppercased(), parts[3], parts[4]].joined(separator: "."),
            cookie, String(repeating: "A", count: 10_000), token.replacingOccurrences(of: ".", with: "%2E"),
        ] {
            #expect(links.read(bad, now: Self.now) == .failure(.invalid), "\(bad.prefix(80))")
        }
    }

    /// The e-mail's text: what happened, since when, the link, when it stops working, and nothing the attacker
    /// typed but the (normalised) username.
    @Test func theMailSaysWhatToDo() {
        let text = UnlockMailText(
            username: "alice", lockedAt: Self.now, lockRemaining: .seconds(300), link: "https://example.com/unlock/TOKEN",
            linkExpires: Self.now.addingTimeInterval(3600)
        ).message(from: "security@example.com", to: "alice@example.com")
        #expect(text.to == "alice@example.com" && text.from == "security@example.com")
        #expect(text.subject.localizedCaseInsensitiveContains("locked"))
        #expect(text.text.contains("https://example.com/unlock/TOKEN") && text.text.contains("alice"))
        #expect(text.text.contains(UnlockLinks.format(Self.now)) && text.text.contains(UnlockLinks.format(Self.now.addingTimeInterval(3600))))
        #expect(UnlockLinks.format(Self.now) == "2027-01-15 08:00 UTC")
    }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
