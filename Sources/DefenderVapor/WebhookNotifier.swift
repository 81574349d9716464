import AsyncHTTPClient
import DefenderHTTP
import Foundation
import NIOCore
import Vapor

/// An example notifier for django-defender's signals: logs every block and unblock, and POSTs a JSON webhook
/// when a block happens (`{"event":"ipBlocked","kind":"ip","key":"203.0.113.7","time":"…"}`), signed when given a
/// secret.
///
/// It runs in the event task, never on the login path; a slow or failing webhook is logged and never affects
/// logins (each POST has a timeout). It never follows a redirect: a webhook that answers `3xx` (moved, misconfigured
/// or taken over) is logged, and the signed body, which names blocked addresses and usernames, goes nowhere else.
public struct DefenderWebhookNotifier: Sendable {
    /// Where block events are POSTed.
    public let url: URI
    /// How long one POST may take.
    public let timeout: TimeAmount
    /// Signs each body (`X-Defender-Signature-256`, see `DefenderWebhookPayload.signedBody(secret:)`); `nil`:
    /// unsigned.
    public let secret: DefenderSecret?

    /// Posts each event as JSON to `url`, giving up after `timeout`, signed with `secret` when one is given.
    public init(url: URI, timeout: TimeAmount = .seconds(5), secret: DefenderSecret? = nil) {
        self.url = url
        self.timeout = timeout
        self.secret = secret
    }

    /// The JSON body of one event (shared with every integration).
    public typealias Payload = DefenderWebhookPayload

    /// Registers the notifier on the app's events.
    public func register(on app: Application) {
        let client = Self.client(of: app)
        let logger = app.logger
        let url = url.string
        let timeout = timeout
        let secret = secret
        let redacted = app.defender.configuration.redactLogs
        app.defender.events.on(detailed: { event, cause in
            await WebhookDelivery.deliver(event, cause: cause, secret: secret, redacted: redacted, logger: logger) { body, fields in
                var request = HTTPClientRequest(url: url)
                request.method = .POST
                for field in fields { request.headers.add(name: field.name, value: field.value) }
                request.body = .bytes(ByteBuffer(bytes: body))
                return Int(try await client.execute(request, timeout: timeout).status.code)
            }
        })
    }

    /// The app's webhook client: the app's client configuration (proxy, TLS, timeouts) with redirects turned off.
    /// Made once per app and kept in its storage, which shuts it down (on either of Vapor's shutdown paths) after
    /// every lifecycle handler has stopped, so after Defender's event delivery has sent what it had queued.
    private static func client(of app: Application) -> HTTPClient {
        if let client = app.storage[ClientKey.self] { return client }
        var configuration = app.http.client.configuration
        configuration.redirectConfiguration = .disallow
        let client = HTTPClient(eventLoopGroup: app.eventLoopGroup, configuration: configuration, backgroundActivityLogger: app.logger)
        app.storage.set(ClientKey.self, to: client, onShutdown: { try $0.syncShutdown() })
        return client
    }

    private struct ClientKey: StorageKey {
        typealias Value = HTTPClient
    }
}

extension DefenderWebhookNotifier: CustomReflectable {
    /// Shows the webhook's scheme and host only: a chat service's webhook URL carries its secret in the path.
    public var customMirror: Mirror {
        Mirror(
            self, children: ["url": "\(url.scheme ?? "https")://\(url.host ?? "")/…", "timeout": timeout, "secret": secret as Any],
            displayStyle: .struct)
    }
}
