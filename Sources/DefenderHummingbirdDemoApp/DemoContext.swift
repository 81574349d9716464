import DefenderDemoSupport
import DefenderHummingbird
import Foundation
import Hummingbird
import HummingbirdAuth
import NIOCore

/// What the demo keeps in a session: who logged in, and the admin page's CSRF token.
public struct DemoSession: Codable, Sendable, DefenderAdminSession {
    /// The logged-in user.
    public var userID: UUID?
    /// The admin forms' token.
    public var defenderCSRFToken: String?
}

/// The demo's request context: what Defender read, the session, and the authenticated user.
public struct DemoContext: DefenderRequestContext, AuthRequestContext, SessionRequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// What Defender read.
    public var defender = DefenderRequestValues()
    /// The peer (the proxy, behind one).
    public let remoteAddress: SocketAddress?
    /// The user, from the session or HTTP Basic.
    public var identity: User?
    /// The session.
    public let sessions: SessionContext<DemoSession>

    /// The context of one request on `source`'s connection.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        sessions = .init()
    }

    /// JSON and URL-encoded forms, as Defender reads them.
    public var requestDecoder: DefenderRequestDecoder { DefenderRequestDecoder() }
    /// The largest body collected: Vapor's default (16 KiB), so that both demos answer the same size with `413`.
    public var maxUploadSize: Int { 16 * 1024 }
}
