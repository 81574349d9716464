/// What a store's ``AttemptStore/redeemUnlockLink(for:nonce:)`` did, in its one atomic step.
public enum UnlockRedemption: Sendable, Hashable {
    /// The link was one of the username's pending ones: it and its siblings are consumed, and the username's
    /// block, failure counter and spray record are lifted. `wasBlocked`: whether a block was lifted (the `usernameUnblocked` event fires).
    case redeemed(wasBlocked: Bool)
    /// No pending link with this nonce: used (it or another of the username's), expired, dropped for newer ones, or never recorded.
    case notPending
    /// An operator has blocked the username: nothing changed, and the link stays unused.
    case blockedByOperator
}
