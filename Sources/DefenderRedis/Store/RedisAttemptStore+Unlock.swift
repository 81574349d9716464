import DefenderCore

/// Unlock e-mails and links: each one script (`RedisScripts+Unlock.swift`).
extension RedisAttemptStore {
    public func recordUnlockMail(for username: DefenderKey, nonce: String, linkTTL: Duration, dailyLimit: Int) async throws -> Bool {
        let call = RecordUnlockMailCall(
            mails: keys.key(.mails, username), links: keys.key(.unlockLinks, username), nonce: nonce, linkMS: linkTTL.milliseconds,
            dayMS: 86_400_000, limit: Int64(dailyLimit), cap: Int64(UnlockLinks.maximumPending))
        return try await run(call).int == 1
    }

    public func redeemUnlockLink(for username: DefenderKey, nonce: String) async throws -> UnlockRedemption {
        let call = RedeemUnlockLinkCall(links: keys.key(.unlockLinks, username), nonce: nonce, lifted: LiftedKey(username, in: keys))
        let reply = try await run(call)
        switch reply.int {
        case 0: return .notPending
        case 1, 3:
            blockCache.forget(username)
            return .redeemed(wasBlocked: reply.int == 3)
        case 2: return .blockedByOperator
        default: throw malformed(reply)
        }
    }
}
