import Foundation
import Logging

/// What a `POST /unlock/<token>` did.
public enum UnlockOutcome: Sendable, Hashable {
    /// The username's lock and counter were lifted (its IP blocks, if any, stay).
    case unlocked(username: String)
    /// Signed by Defender, but already used, replaced by a later lockout's link, or never recorded.
    case used
    /// Past its expiry.
    case expired
    /// Not a token Defender signed: altered, forged, or signed with a key no longer configured.
    case invalid
    /// An operator has blocked the username: a link lifts the lockouts failed logins cause, not an
    /// administrator's block (the link stays unused).
    case blockedByOperator
}

extension Defender {
    /// Reads an unlock token without changing anything (for the page `GET /unlock/<token>` shows: mail scanners
    /// fetch links, so a GET must not unlock).
    /// - Returns: the token, or why it is refused; ``UnlockLinks/Refusal/invalid`` when unlock links are off.
    public func inspectUnlockToken(_ token: String) -> Result<UnlockLinks.Token, UnlockLinks.Refusal> {
        guard let unlockLinks else { return .failure(.invalid) }
        return unlockLinks.read(token)
    }

    /// Redeems an unlock token: when it is one of the username's pending links, consumes it and its siblings (none
    /// works again) and
    /// lifts that username's lock and failure counter, firing ``DefenderEvent/usernameUnblocked(_:)``. No IP's
    /// block is lifted: whoever locked the account from their addresses stays locked out. An operator's block of
    /// the username is not lifted either (``UnlockOutcome/blockedByOperator``).
    /// - Throws: ``DefenderError`` when the store cannot be reached (the link is then still unused: the store
    ///   redeems in one step, ``AttemptStore/redeemUnlockLink(for:nonce:)``).
    public func redeemUnlockToken(_ token: String) async throws -> UnlockOutcome {
        let outcome: UnlockOutcome
        switch inspectUnlockToken(token) {
        case .failure(.invalid): outcome = .invalid
        case .failure(.expired): outcome = .expired
        case .success(let link):
            // One store step: the operator-block check, the link's consumption and the lift cannot be split by
            // another request or a crash.
            // Shielded with its event: a click whose request is cancelled mid-step (the tab closed) must not
            // consume the link and lift the lock without the unblock event.
            let redemption = try await shielded { [store, events] in
                let redemption = try await store.redeemUnlockLink(for: link.username, nonce: link.nonce)
                if case .redeemed(wasBlocked: true) = redemption { events.emit(DefenderEvent(key: link.username, blocked: false)) }
                return redemption
            }
            switch redemption {
            case .blockedByOperator: outcome = .blockedByOperator
            case .notPending: outcome = .used
            case .redeemed: outcome = .unlocked(username: link.username.value)
            }
        }
        switch outcome {
        case .unlocked(let username):
            metrics.unlock.record(.unlocked)
            logger.notice("an unlock link lifted a username's lock", metadata: ["username": shown(username)])
        case .used: metrics.unlock.record(.used)
        case .expired: metrics.unlock.record(.expired)
        case .invalid: metrics.unlock.record(.invalid)
        case .blockedByOperator: metrics.unlock.record(.blockedByOperator)
        }
        return outcome
    }
}
