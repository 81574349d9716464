import DefenderCore
import Foundation

/// The JSON body a webhook receives for a block: django-defender's `ip_blocked` / `username_blocked` signals as
/// `{"cause":"counter","event":"ipBlocked","key":"203.0.113.7","kind":"ip","time":"…"}`. One definition for every integration's
/// notifier (Vapor's `DefenderWebhookNotifier`, the Hummingbird demo's), so they post the same body.
public struct DefenderWebhookPayload: Codable, Sendable, Equatable {
    /// The event: `ipBlocked`, `usernameBlocked` or `pairBlocked` (only blocks are posted).
    public var event: String
    /// What was blocked: `ip`, `username` or `pair`.
    public var kind: String
    /// Why: `counter`, `spray`, `long_window` or `manual` (`DefenderEvent.Cause`); absent when not known.
    public var cause: String?
    /// The IP or username.
    public var key: String
    /// When the notice was sent.
    public var time: Date

    /// The body for `event`, or `nil` when the event is not posted (unblocks are only logged).
    public init?(_ event: DefenderEvent, cause: DefenderEvent.Cause? = nil, time: Date = Date()) {
        guard event.isBlock else { return nil }
        self.event = event.name
        self.cause = cause?.rawValue
        kind = event.key.kind.rawValue
        key = event.key.value
        self.time = time
    }

    /// The header that carries a signed body's signature (`sha256=` and the hex HMAC), as GitHub's webhooks do.
    public static let signatureField = "X-Defender-Signature-256"

    /// The JSON body as every notifier sends it, and its ``signatureField`` value when a secret is given: the
    /// receiver recomputes `HMAC-SHA-256(secret, body)` over the bytes it got and compares in constant time, so
    /// that nobody who learns the URL can post block events; the body's `time` lets it refuse old ones replayed.
    /// - Parameter secret: the shared secret (`DEFENDER_NOTIFY_WEBHOOK_SECRET` in the demos); `nil`: unsigned.
    /// - Returns: the body, and the signature field's value (`nil` without a secret).
    /// - Throws: the JSON encoder's error.
    public func signedBody(secret: DefenderSecret?) throws -> (body: [UInt8], signature: String?) {
        let body = Array(try HTTPAnswer.encoder().encode(self))
        return (body, secret.map { "sha256=" + KeyedDigest.signature(of: body, key: $0.value) })
    }
}
