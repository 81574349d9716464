import Synchronization

extension MemoryAttemptStore {
    /// Unlock links and e-mail counts, per username, bounded by the store's capacity.
    struct UnlockLedger {
        struct Link {
            let nonce: String
            let expires: Duration
        }

        struct MailCount {
            var count: Int
            let windowEnds: Duration
        }

        /// Per username, its pending links, oldest first (at most `UnlockLinks.maximumPending`).
        var links: [String: [Link]] = [:]
        var mailCounts: [String: MailCount] = [:]

        /// Drops what has expired; if `table` is still full, the entries that would expire first.
        static func makeRoom<Value>(in table: inout [String: Value], capacity: Int, now: Duration, expiry: (Value) -> Duration) {
            guard table.count >= capacity else { return }
            table = table.filter { expiry($0.value) > now }
            guard table.count >= capacity else { return }
            let excess = table.count - capacity + 1
            for key in table.sorted(by: { expiry($0.value) < expiry($1.value) }).prefix(excess).map(\.key) { table[key] = nil }
        }
    }

    /// The length of the window `DEFENDER_UNLOCK_MAILS_PER_DAY` counts in.
    static let unlockMailWindow = Duration.seconds(86400)

    public func recordUnlockMail(for username: DefenderKey, nonce: String, linkTTL: Duration, dailyLimit: Int) async throws -> Bool {
        let now = clock.now()
        return unlockLedger.withLock { ledger in
            var count = ledger.mailCounts[username.value].flatMap { $0.windowEnds > now ? $0 : nil }
                ?? UnlockLedger.MailCount(count: 0, windowEnds: now + Self.unlockMailWindow)
            guard count.count < dailyLimit else { return false }
            count.count += 1
            if ledger.mailCounts[username.value] == nil {
                UnlockLedger.makeRoom(in: &ledger.mailCounts, capacity: capacity, now: now) { $0.windowEnds }
            }
            ledger.mailCounts[username.value] = count
            if ledger.links[username.value] == nil {
                UnlockLedger.makeRoom(in: &ledger.links, capacity: capacity, now: now) { $0.last?.expires ?? now }
            }
            // Earlier links stay: an e-mail whose sending fails must not take away the one already in the inbox.
            var pending = ledger.links[username.value, default: []].filter { $0.expires > now }
            pending.append(UnlockLedger.Link(nonce: nonce, expires: now + linkTTL))
            ledger.links[username.value] = Array(pending.suffix(UnlockLinks.maximumPending))
            return true
        }
    }

    public func redeemUnlockLink(for username: DefenderKey, nonce: String) async throws -> UnlockRedemption {
        let now = clock.now()
        // The attempt state's lock, then the ledger's (no path takes them the other way round): the operator-block
        // check, the consumption and the lift are one critical section.
        return state.withLock { state in
            if state.entries[StoreKey(username)]?.activeBlock(at: now)?.isManual == true { return .blockedByOperator }
            let consumed = unlockLedger.withLock { ledger in
                guard ledger.links[username.value]?.contains(where: { $0.nonce == nonce && $0.expires > now }) == true else { return false }
                ledger.links[username.value] = nil  // one unlock uses every pending link
                return true
            }
            guard consumed else { return .notPending }
            return .redeemed(wasBlocked: state.clear(username, now: now))
        }
    }
}
