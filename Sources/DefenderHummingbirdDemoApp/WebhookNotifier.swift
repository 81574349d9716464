import AsyncHTTPClient
import DefenderHTTP
import DefenderHummingbird
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// `DEFENDER_NOTIFY_WEBHOOK_URL` in the Hummingbird demo: logs every block and unblock, and POSTs a JSON webhook
/// when a block happens, with the body every integration sends (`DefenderWebhookPayload`). Only the transport is
/// its own (AsyncHTTPClient; Vapor's notifier uses Vapor's client). It runs in the event task, never on the
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
            logger.notice("defender: \(event.description(redacted: redacted))")
            guard let payload = DefenderWebhookPayload(event, cause: cause) else { return }
            do {
                var request = HTTPClientRequest(url: url)
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
                let (body, signature) = try payload.signedBody(secret: secret)
                if let signature { request.headers.add(name: DefenderWebhookPayload.signatureField, value: signature) }
                request.body = .bytes(ByteBuffer(bytes: body))
                let response = try await Self.client.execute(request, timeout: timeout)
                if response.status.code >= 300 { logger.warning("defender webhook answered \(response.status.code)") }
            } catch {
                logger.warning("defender webhook failed: \(error)")
            }
        })
    }
}
