import CoreMetrics

/// The metrics of unlock e-mails and links.
public struct UnlockMetrics: Sendable {
    /// What became of a lockout's e-mail.
    public enum MailResult: String, Sendable, CaseIterable {
        /// The mail server accepted it.
        case sent
        /// The mailer failed or timed out (logged).
        case failed
        /// The account had its `DEFENDER_UNLOCK_MAILS_PER_DAY` already.
        case limited
        /// The app knows no address for the username.
        case noAddress = "no_address"
        /// Not sent: the queue was full (a flood of lockouts) and the oldest waiting e-mail was dropped, or the
        /// lockout came after the service had stopped (a lockout answered during graceful shutdown).
        case dropped
    }

    /// What became of a `POST /unlock/<token>`.
    public enum LinkResult: String, Sendable, CaseIterable {
        /// The username's lock was lifted.
        case unlocked
        /// Signed, but already used (it or another link of the account's), or unknown to the store.
        case used
        /// Past its expiry.
        case expired
        /// Not signed by Defender.
        case invalid
        /// The username was blocked by an operator: not lifted.
        case blockedByOperator = "blocked_by_operator"
    }

    private let mails: [MailResult: Counter]
    private let links: [LinkResult: Counter]

    /// `defender_unlock_mails_total{result}` and `defender_unlock_links_total{result}`.
    public init(factory: any MetricsFactory) {
        mails = Dictionary(uniqueKeysWithValues: MailResult.allCases.map {
            ($0, Counter(label: "defender_unlock_mails_total", dimensions: [("result", $0.rawValue)], factory: factory))
        })
        links = Dictionary(uniqueKeysWithValues: LinkResult.allCases.map {
            ($0, Counter(label: "defender_unlock_links_total", dimensions: [("result", $0.rawValue)], factory: factory))
        })
    }

    /// Counts one e-mail's result.
    public func record(_ result: MailResult) { mails[result]?.increment() }

    /// Counts one link's result.
    public func record(_ result: LinkResult) { links[result]?.increment() }
}
