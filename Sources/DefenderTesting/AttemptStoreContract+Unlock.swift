import DefenderCore
import Foundation
import Testing

extension AttemptStoreContract {
    /// Every unlock-link scenario a store must pass (the daily window's end is `aDayLaterMailsAgain()`, for stores
    /// whose clock a test can move a day).
    public func runUnlockLinks() async throws {
        try await theDailyLimitCountsMails()
        try await everyMailedLinkWorksUntilOneIsUsed()
        try await theOldestLinksGoBeyondTheCap()
        try await aLinkExpires()
        try await aRedemptionLiftsTheLockInTheSameStep()
        try await racingRedemptionsUnlockOnce()
        try await aLinkLiftsTheUsernameAlone()
        try await aLinkDoesNotLiftAnOperatorsBlock()
        try await anOperatorsBlockRacingARedemptionStays()
    }

    /// An operator blocks alice at the moment her link is redeemed, twenty times over: whichever comes first, she
    /// ends blocked by the operator (a redemption that checked for the block, then lifted the lock in a later step,
    /// would lift the operator's block when it landed in between).
    public func anOperatorsBlockRacingARedemptionStays() async throws {
        let engine = try await defender { $0.secretKeys = [DefenderSecret(Self.deviceSecret)] }
        let links = try #require(engine.unlockLinks)
        let alice = try #require(DefenderKey.username("alice"))
        for round in 0..<20 {
            for bot in 1...4 { _ = try await engine.login(ip: "198.51.100.\(bot)", username: "alice", correctPassword: false) }
            let (token, nonce) = links.issue(for: alice)
            #expect(try await engine.store.recordUnlockMail(for: alice, nonce: nonce, linkTTL: links.ttl, dailyLimit: 100))
            let gate = StartGate(parties: 2)
            let outcome = try await withThrowingTaskGroup(of: UnlockOutcome?.self) { group in
                group.addTask {
                    await gate.arrive()
                    return try await engine.redeemUnlockToken(token)
                }
                group.addTask {
                    await gate.arrive()
                    _ = try await engine.block(username: "alice")
                    return nil
                }
                return try await group.compactMap { $0 }.first { _ in true }
            }
            #expect(outcome == .unlocked(username: "alice") || outcome == .blockedByOperator, "round \(round): \(outcome)")
            #expect(try await engine.store.state(of: alice).block?.isManual == true, "round \(round): the operator's block was lifted")
            #expect(try await engine.unblock(username: "alice"))
            for bot in 1...4 { _ = try await engine.unblock(ip: "198.51.100.\(bot)") }
        }
    }

    /// Redeemed while the username is locked: the lock, its counter and the link go in the one step, and the
    /// store says a block was lifted (the engine then announces it).
    public func aRedemptionLiftsTheLockInTheSameStep() async throws {
        let engine = try await defender { $0.secretKeys = [DefenderSecret(Self.deviceSecret)] }
        let alice = try #require(DefenderKey.username("alice"))
        for bot in 1...4 { _ = try await engine.login(ip: "198.51.100.\(bot)", username: "alice", correctPassword: false) }
        #expect(try await engine.store.state(of: alice).block != nil)
        #expect(try await engine.store.recordUnlockMail(for: alice, nonce: Self.nonce(8), linkTTL: .seconds(3600), dailyLimit: 3))
        #expect(try await engine.store.redeemUnlockLink(for: alice, nonce: Self.nonce(8)) == .redeemed(wasBlocked: true))
        let after = try await engine.store.state(of: alice)
        #expect(after.block == nil && after.failures == 0)
        #expect(try await engine.store.redeemUnlockLink(for: alice, nonce: Self.nonce(8)) == .notPending)
    }

    /// An operator blocks alice while her mailed link is pending: the link lifts nothing and stays unused; once the
    /// operator has lifted the block, it works (and lifts nothing more than her counter).
    public func aLinkDoesNotLiftAnOperatorsBlock() async throws {
        let engine = try await defender { $0.secretKeys = [DefenderSecret(Self.deviceSecret)] }
        let links = try #require(engine.unlockLinks)
        let alice = try #require(DefenderKey.username("alice"))
        for bot in 1...4 { _ = try await engine.login(ip: "198.51.100.\(bot)", username: "alice", correctPassword: false) }
        let (token, nonce) = links.issue(for: alice)
        #expect(try await engine.store.recordUnlockMail(for: alice, nonce: nonce, linkTTL: links.ttl, dailyLimit: 3))
        _ = try await engine.block(username: "alice")  // replaces the automatic block
        #expect(try await engine.redeemUnlockToken(token) == .blockedByOperator)
        #expect(try await engine.store.state(of: alice).block?.isManual == true)
        #expect(try await engine.unblock(username: "alice"))
        #expect(try await engine.redeemUnlockToken(token) == .unlocked(username: "alice"))
    }

    /// A distinct 32-digit nonce per index.
    static func nonce(_ index: Int) -> String {
        let digits = String(index)
        return String(repeating: "0", count: max(0, 32 - digits.count)) + digits
    }

    /// `DEFENDER_UNLOCK_MAILS_PER_DAY`: three mails a day per username, then none (writing nothing: the
    /// refused ones' links are not pending); another username has its own count.
    public func theDailyLimitCountsMails() async throws {
        let store = try await makeStore()
        let alice = try #require(DefenderKey.username("alice"))
        var recorded: [Bool] = []
        for index in 1...5 { recorded.append(try await store.recordUnlockMail(for: alice, nonce: Self.nonce(index), linkTTL: .seconds(3600), dailyLimit: 3)) }
        #expect(recorded == [true, true, true, false, false])
        #expect(try await store.redeemUnlockLink(for: alice, nonce: Self.nonce(5)) == .notPending)
        #expect(try await store.redeemUnlockLink(for: alice, nonce: Self.nonce(3)) == .redeemed(wasBlocked: false))
        #expect(try await store.recordUnlockMail(for: try #require(DefenderKey.username("bob")), nonce: Self.nonce(1), linkTTL: .seconds(3600), dailyLimit: 3))
    }

    /// A day after the first mail, the count starts again.
    public func aDayLaterMailsAgain() async throws {
        let store = try await makeStore()
        let alice = try #require(DefenderKey.username("alice"))
        #expect(try await store.recordUnlockMail(for: alice, nonce: Self.nonce(1), linkTTL: .seconds(3600), dailyLimit: 1))
        #expect(try await store.recordUnlockMail(for: alice, nonce: Self.nonce(2), linkTTL: .seconds(3600), dailyLimit: 1) == false)
        try await advance(.seconds(86401))
        #expect(try await store.recordUnlockMail(for: alice, nonce: Self.nonce(3), linkTTL: .seconds(3600), dailyLimit: 1))
        #expect(try await store.redeemUnlockLink(for: alice, nonce: Self.nonce(3)) == .redeemed(wasBlocked: false))
    }

    /// Every link mailed works until it expires or one of them is used (a later e-mail whose sending failed must
    /// not have taken away the link already in the inbox); one unlock uses them all; a nonce of another username's
    /// link does nothing for this one.
    public func everyMailedLinkWorksUntilOneIsUsed() async throws {
        let store = try await makeStore()
        let alice = try #require(DefenderKey.username("alice"))
        let bob = try #require(DefenderKey.username("bob"))
        #expect(try await store.recordUnlockMail(for: alice, nonce: Self.nonce(1), linkTTL: .seconds(3600), dailyLimit: 3))
        #expect(try await store.recordUnlockMail(for: alice, nonce: Self.nonce(2), linkTTL: .seconds(3600), dailyLimit: 3))
        #expect(try await store.recordUnlockMail(for: bob, nonce: Self.nonce(7), linkTTL: .seconds(3600), dailyLimit: 3))
        #expect(try await store.redeemUnlockLink(for: alice, nonce: Self.nonce(7)) == .notPending)
        #expect(try await store.redeemUnlockLink(for: alice, nonce: Self.nonce(1)) == .redeemed(wasBlocked: false))
        #expect(try await store.redeemUnlockLink(for: alice, nonce: Self.nonce(2)) == .notPending)
        #expect(try await store.redeemUnlockLink(for: alice, nonce: Self.nonce(1)) == .notPending)
        #expect(try await store.redeemUnlockLink(for: bob, nonce: Self.nonce(7)) == .redeemed(wasBlocked: false))
        // A new e-mail after the unlock starts afresh: the used links stay used.
        #expect(try await store.recordUnlockMail(for: alice, nonce: Self.nonce(3), linkTTL: .seconds(3600), dailyLimit: 3))
        #expect(try await store.redeemUnlockLink(for: alice, nonce: Self.nonce(2)) == .notPending)
        #expect(try await store.redeemUnlockLink(for: alice, nonce: Self.nonce(3)) == .redeemed(wasBlocked: false))
    }

    /// At most `UnlockLinks.maximumPending` links per username: beyond it the oldest no longer work.
    public func theOldestLinksGoBeyondTheCap() async throws {
        let store = try await makeStore()
        let alice = try #require(DefenderKey.username("alice"))
        let mailed = UnlockLinks.maximumPending + 2
        for index in 1...mailed {
            #expect(try await store.recordUnlockMail(for: alice, nonce: Self.nonce(index), linkTTL: .seconds(3600), dailyLimit: 100))
        }
        #expect(try await store.redeemUnlockLink(for: alice, nonce: Self.nonce(1)) == .notPending)
        #expect(try await store.redeemUnlockLink(for: alice, nonce: Self.nonce(2)) == .notPending)
        #expect(try await store.redeemUnlockLink(for: alice, nonce: Self.nonce(3)) == .redeemed(wasBlocked: false))
    }

    /// The store forgets a link after its lifetime, whatever the token says.
    public func aLinkExpires() async throws {
        let store = try await makeStore()
        let alice = try #require(DefenderKey.username("alice"))
        #expect(try await store.recordUnlockMail(for: alice, nonce: Self.nonce(1), linkTTL: .seconds(1), dailyLimit: 3))
        try await advance(.milliseconds(1200))
        #expect(try await store.redeemUnlockLink(for: alice, nonce: Self.nonce(1)) == .notPending)
        // An expired link stays dead beside a newer pending one, which works.
        #expect(try await store.recordUnlockMail(for: alice, nonce: Self.nonce(2), linkTTL: .seconds(3600), dailyLimit: 3))
        #expect(try await store.redeemUnlockLink(for: alice, nonce: Self.nonce(1)) == .notPending)
        #expect(try await store.redeemUnlockLink(for: alice, nonce: Self.nonce(2)) == .redeemed(wasBlocked: false))
    }

    /// Forty requests redeem one link at once (a user double-clicking, a scanner, an attacker who saw the link):
    /// exactly one consumes it.
    public func racingRedemptionsUnlockOnce() async throws {
        let store = try await makeStore()
        let alice = try #require(DefenderKey.username("alice"))
        #expect(try await store.recordUnlockMail(for: alice, nonce: Self.nonce(4), linkTTL: .seconds(3600), dailyLimit: 3))
        let gate = StartGate(parties: 40)
        let consumed = try await withThrowingTaskGroup(of: UnlockRedemption.self) { group in
            for _ in 0..<40 {
                group.addTask {
                    await gate.arrive()
                    return try await store.redeemUnlockLink(for: alice, nonce: Self.nonce(4))
                }
            }
            return try await group.reduce(0) { $0 + ($1 == .notPending ? 0 : 1) }
        }
        #expect(consumed == 1)
    }

    /// Through the engine: one address locks itself and alice; the mailed token lifts alice's lock and counter (she
    /// logs in from elsewhere, and fails three more times before a lockout) but not the address's block; used
    /// again, altered, or signed with another key, it does nothing.
    public func aLinkLiftsTheUsernameAlone() async throws {
        let engine = try await defender { $0.secretKeys = [DefenderSecret(Self.deviceSecret)] }
        let links = try #require(engine.unlockLinks)
        let alice = try #require(DefenderKey.username("alice"))
        for _ in 1...4 { _ = try await engine.login(ip: "198.51.100.9", username: "alice", correctPassword: false) }
        #expect(try await engine.login(ip: "192.0.2.1", username: "alice", correctPassword: true) == .refused)

        let (token, nonce) = links.issue(for: alice)
        #expect(try await engine.store.recordUnlockMail(for: alice, nonce: nonce, linkTTL: links.ttl, dailyLimit: 3))
        var altered = Array(token.utf8)
        altered[altered.count - 5] = altered[altered.count - 5] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(try await engine.redeemUnlockToken(String(decoding: altered, as: UTF8.self)) == .invalid)
        #expect(try await engine.login(ip: "192.0.2.1", username: "alice", correctPassword: true) == .refused)

        #expect(try await engine.redeemUnlockToken(token) == .unlocked(username: "alice"))
        #expect(try await engine.redeemUnlockToken(token) == .used)
        #expect(try await engine.login(ip: "198.51.100.9", username: "alice", correctPassword: true) == .refused)
        var results: [LoginResult] = []
        for _ in 1...4 { results.append(try await engine.login(ip: "192.0.2.\(results.count + 2)", username: "alice", correctPassword: false)) }
        #expect(results == [.failure, .failure, .failure, .lockedOut])

        // A token for the same username, nonce and expiry, signed with a key the engine does not know.
        var foreign = DefenderConfiguration()
        foreign.secretKeys = [DefenderSecret("another-secret-key-0123456789-abcdefghij")]
        let forged = try #require(UnlockLinks(configuration: foreign)).issue(for: alice)
        #expect(try await engine.store.recordUnlockMail(for: alice, nonce: forged.nonce, linkTTL: links.ttl, dailyLimit: 3))
        #expect(try await engine.redeemUnlockToken(forged.token) == .invalid)
    }
}
