import DefenderCore
import Foundation
import HTTPTypes
import Mustache

/// The answer to a locked-out request (django-defender's `lockout_response`), for every integration: `403` (or
/// `429`, `DefenderConfiguration/lockoutStatus`), `Cache-Control: no-store`, `Retry-After` with the seconds left
/// unless permanent, the `RateLimit` fields when on; then problem+json for JSON clients, else the configured
/// template (which the integration renders), else a `302` to `DefenderConfiguration/lockoutURL`, else the lockout
/// page of ``DefenderTemplates``.
package struct LockoutAnswer: Sendable {
    /// django-defender's messages, kept word for word (two spaces included).
    package static let temporaryMessage = "Account locked: too many login attempts.  Please try again later."
    package static let permanentMessage = "Account locked: too many login attempts.  Contact an admin to unlock your account."
    package static let deniedMessage = "Logins from this address or for this account are not allowed.  Contact an admin."

    /// What the integration sends.
    package enum Body: Sendable {
        /// Send as it is (problem+json, the page, or the redirect's empty body).
        case ready(HTTPAnswer)
        /// Render this template with this context, then apply `status` and `fields`.
        case template(name: String, context: LockoutTemplateContext, status: Int, fields: HTTPFields)
    }

    package let body: Body

    /// - Parameters:
    ///   - lockout: what locks the request.
    ///   - configuration: the settings in force.
    ///   - json: whether the client gets problem+json (never the redirect).
    ///   - templates: the pages Defender renders (the app's, or the standard ones).
    package init(_ lockout: Lockout, configuration config: DefenderConfiguration, json: Bool, templates: DefenderTemplates) {
        let status = config.lockoutStatus
        let kind: LockoutBodies.Message = lockout.reason == .denylisted ? .denied : lockout.isPermanent ? .permanent : .temporary
        let message = switch kind {
        case .denied: Self.deniedMessage
        case .permanent: Self.permanentMessage
        case .temporary: Self.temporaryMessage
        }
        var fields = HTTPFields()
        fields[.cacheControl] = "no-store"
        if let seconds = lockout.retryAfterSeconds { fields[.retryAfter] = String(seconds) }
        if config.rateLimitHeaders { RateLimitFields.addLocked(to: &fields, config, lockout: lockout) }
        if json {
            fields[.contentType] = HTTPAnswer.problemJSON
            let key = LockoutBodies.Key(json: true, message: kind, permanent: lockout.isPermanent, status: status, seconds: lockout.retryAfterSeconds, failureLimit: 0)
            let bytes = templates.lockoutBodies.body(for: key) {
                let problem = LockoutProblem(
                    title: "Too many failed login attempts", status: status, detail: message, retryAfter: lockout.retryAfterSeconds)
                return Array((try? HTTPAnswer.encoder().encode(problem)) ?? Data())
            }
            body = .ready(HTTPAnswer(status: status, fields: fields, body: bytes))
        } else if let template = config.lockoutTemplate {
            let context = LockoutTemplateContext(
                cooloff_time_seconds: lockout.retryAfterSeconds ?? 0, cooloff_time_minutes: Double(lockout.retryAfterSeconds ?? 0) / 60,
                failure_limit: config.loginFailureLimit, permanent: lockout.isPermanent)
            body = .template(name: template, context: context, status: status, fields: fields)
        } else if let url = config.lockoutURL {
            fields[.location] = url
            body = .ready(HTTPAnswer(status: 302, fields: fields))
        } else {
            fields[.contentType] = HTTPAnswer.html
            let seconds = lockout.retryAfterSeconds ?? 0
            let key = LockoutBodies.Key(json: false, message: kind, permanent: lockout.isPermanent, status: status, seconds: seconds, failureLimit: config.loginFailureLimit)
            let bytes = templates.lockoutBodies.body(for: key) {
                Array(templates.lockout.render(LockoutPageContext(
                    message: message, temporary: !lockout.isPermanent, permanent: lockout.isPermanent, retry_after_seconds: seconds,
                    cooloff_time_seconds: seconds, cooloff_time_minutes: Double(seconds) / 60, failure_limit: config.loginFailureLimit)).utf8)
            }
            body = .ready(HTTPAnswer(status: status, fields: fields, body: bytes))
        }
    }
}

/// RFC 9457 problem details of a lockout.
package struct LockoutProblem: Codable, Sendable {
    var type = "about:blank"
    var title: String
    var status: Int
    var detail: String
    /// Seconds until the lock lifts; `null` when permanent.
    var retryAfter: Int?

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encode(title, forKey: .title)
        try container.encode(status, forKey: .status)
        try container.encode(detail, forKey: .detail)
        try container.encode(retryAfter, forKey: .retryAfter)
    }
}

/// The context django-defender gives `LOCKOUT_TEMPLATE`, under the same names.
package struct LockoutTemplateContext: Encodable, Sendable {
    let cooloff_time_seconds: Int
    let cooloff_time_minutes: Double
    let failure_limit: Int
    let permanent: Bool
}
