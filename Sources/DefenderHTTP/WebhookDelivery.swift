import DefenderCore
import Logging

/// What every integration's webhook notifier does with an event, once: log it, and for a block POST the signed
/// body (`DefenderWebhookPayload`) through the notifier's own HTTP client, logging a failure or an answer that is
/// not `2xx`. Only the transport is the notifier's; it must not follow redirects.
package enum WebhookDelivery {
    /// Delivers `event`. Never throws: a webhook that fails is logged and never affects logins.
    /// - Parameters:
    ///   - post: sends the body with the given header fields and returns the response's status code.
    package static func deliver(
        _ event: DefenderEvent, cause: DefenderEvent.Cause?, secret: DefenderSecret?, redacted: Bool, logger: Logger,
        post: (_ body: [UInt8], _ fields: [(name: String, value: String)]) async throws -> Int
    ) async {
        logger.notice("defender: \(event.description(redacted: redacted))")
        guard let payload = DefenderWebhookPayload(event, cause: cause) else { return }
        do {
            let (body, signature) = try payload.signedBody(secret: secret)
            var fields = [(name: "Content-Type", value: "application/json; charset=utf-8")]
            if let signature { fields.append((DefenderWebhookPayload.signatureField, signature)) }
            let status = try await post(body, fields)
            if status >= 300 { logger.warning("defender webhook answered \(status)") }
        } catch {
            logger.warning("defender webhook failed: \(error)")
        }
    }
}
