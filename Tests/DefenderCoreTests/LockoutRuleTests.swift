@testable import DefenderCore
import DefenderTesting
import Testing

/// The one lockout rule (`LockoutPolicy.lockout(ip:username:)`, and its Lua twin through the store differential
/// test): which blocks lock a request, and when it is free again.
@Suite struct LockoutRuleTests {
    let ip = DefenderKey(kind: .ip, normalizedValue: "203.0.113.1")
    let user = DefenderKey(kind: .username, normalizedValue: "alice")

    func policy(and: Bool = false, disableIP: Bool = false, disableUsername: Bool = false) -> LockoutPolicy {
        var config = DefenderConfiguration()
        config.lockOutByIPAndUsername = and
        config.disableIPLockout = disableIP
        config.disableUsernameLockout = disableUsername
        return LockoutPolicy(config)
    }

    func block(_ key: DefenderKey, manual: Bool, _ seconds: Int64?) -> ActiveBlock {
        ActiveBlock(key: key, locksInEveryMode: manual, remaining: seconds.map { .seconds($0) })
    }

    /// An operator's short block beside a permanent automatic one: the request is locked for good, and both blocks
    /// are named. (The rule once answered with the manual block alone and its 4,000 s: a client that came back
    /// then was refused again.)
    @Test func aShortManualBlockDoesNotHideALongerAutomaticOne() {
        let lockout = policy().lockout(ip: block(ip, manual: true, 4_000), username: block(user, manual: false, nil))
        #expect(lockout?.keys == [ip, user] && lockout?.retryAfter == nil)
        let finite = policy().lockout(ip: block(ip, manual: true, 100), username: block(user, manual: false, 900))
        #expect(finite?.retryAfter == .seconds(900))
    }

    /// In AND mode a manual IP block holds alone; beside an automatic username block the request is free when the
    /// manual block lifts (the AND no longer holds), not when the username's does.
    @Test func andModeIsFreeWhenEitherDimensionLifts() {
        let mixed = policy(and: true).lockout(ip: block(ip, manual: true, 100), username: block(user, manual: false, 1_000))
        #expect(mixed?.keys == [ip, user] && mixed?.retryAfter == .seconds(100))
        let automatic = policy(and: true).lockout(ip: block(ip, manual: false, 300), username: block(user, manual: false, 1_000))
        #expect(automatic?.retryAfter == .seconds(300))
        #expect(policy(and: true).lockout(ip: nil, username: block(user, manual: false, 1_000)) == nil)
        let permanent = policy(and: true).lockout(ip: block(ip, manual: false, nil), username: block(user, manual: false, 50))
        #expect(permanent?.retryAfter == .seconds(50))
    }

    /// A disabled dimension's automatic block never locks; its manual block still does.
    @Test func disabledDimensions() {
        #expect(policy(disableIP: true).lockout(ip: block(ip, manual: false, 300), username: nil) == nil)
        let manual = policy(disableIP: true).lockout(ip: block(ip, manual: true, 300), username: block(user, manual: false, 60))
        #expect(manual?.keys == [ip, user] && manual?.retryAfter == .seconds(300))
    }

    /// A shared address's every-mode block refuses its pairs beside the pair's own block: both are named, and the
    /// request is free when the later lifts (an operator's minute-long block of the address is no promise while the
    /// pair is blocked for a day). A pair's manual block locks in AND mode whatever the username.
    @Test func aSharedAddressBlockSitsBesideThePairs() {
        let address = ip
        let pair = DefenderKey.pair(address: address, username: user)
        let both = policy().lockout(ip: block(pair, manual: false, 86_400), username: nil, address: block(address, manual: true, 60))
        #expect(both?.keys == [address, pair] && both?.retryAfter == .seconds(86_400))
        let alone = policy().lockout(ip: nil, username: block(user, manual: false, 30), address: block(address, manual: true, 60))
        #expect(alone?.keys == [address, user] && alone?.retryAfter == .seconds(60))
        let manualPair = policy(and: true).lockout(ip: block(pair, manual: true, 100), username: nil)
        #expect(manualPair?.keys == [pair] && manualPair?.retryAfter == .seconds(100))
    }
}
