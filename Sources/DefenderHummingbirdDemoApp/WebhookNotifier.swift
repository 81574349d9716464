import AsyncHTTPClient
import DefenderHTTP
import DefenderHummingbird
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// `DEFENDER_NOTIFY_WEBHOOK_URL` in the Hummingbird demo: logs every block and unblock, and POSTs a JSON webhook
/// when a block happens, delivered as every integration delivers it (`WebhookDelivery`). Only the transport is its
/// own (a process-wide AsyncHTTPClient client; Vapor's notifier has one per app). It runs in the event task, never on the
/// login path; a slow or failing webhook is logged and never affects logins (each POST has a timeout). Like Vapor's,
/// it never follows a redirect: the signed body names blocked addresses and usernames, and goes to `url` only.
struct WebhookNotifier: Sendable {
    /// AsyncHTTPClient's default configuration with redirects turned off; process-wide and never shut down, as
    /// `HTTPClient.shared` is.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    let url: String
    let secret: DefenderSecret?
    let timeout: TimeAmount = .seconds(5)

    func register(on defender: HummingbirdDefender, logger: Logger) {
        let url = url
        let timeout = timeout
        let secret = secret
        let redacted = defender.engine.configuration.redactLogs
        defender.events.on(detailed: { event, cause in
            await WebhookDelivery.deliver(event, cause: cause, secret: secret, redacted: redacted, logger: logger) { body, fields in
                var request = HTTPClientRequest(url: url)
                request.method = .POST
                for field in fields { request.headers.add(name: field.name, value: field.value) }
                request.body = .bytes(ByteBuffer(bytes: body))
                return Int(try await Self.client.execute(request, timeout: timeout).status.code)
            }
        })
    }
}
