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
}
