/// What a store's ``AttemptStore/redeemUnlockLink(for:nonce:)`` did, in its one atomic step.
public enum UnlockRedemption: Sendable, Hashable {
    /// The link was the username's pending one: it is consumed, and the username's block, failure counter and
    /// spray record are lifted. `wasBlocked`: whether a block was lifted (the `usernameUnblocked` event fires).
    case redeemed(wasBlocked: Bool)
    /// No pending link with this nonce: used, replaced by a later lockout's link, expired, or never recorded.
    case notPending
    /// An operator has blocked the username: nothing changed, and the link stays unused.
    case blockedByOperator
}
