import Foundation
import Vapor

/// The format of a lockout response.
public struct LockoutResponseFormat: Sendable, Hashable {
    enum Base: Hashable, Sendable { case automatic, html, json }
    let base: Base

    /// `application/problem+json` when the client asks for JSON (its `Accept`, or a JSON body with no HTML in
    /// `Accept`), else HTML (or the configured template or redirect).
    public static let automatic = LockoutResponseFormat(base: .automatic)
    /// Always the HTML page, template or redirect.
    public static let html = LockoutResponseFormat(base: .html)
    /// Always `application/problem+json`; never the `LOCKOUT_URL` redirect.
    public static let json = LockoutResponseFormat(base: .json)
}

extension DefenderRequest {
    /// django-defender's message, kept word for word (two spaces included).
    static let temporaryMessage = "Account locked: too many login attempts.  Please try again later."
    static let permanentMessage = "Account locked: too many login attempts.  Contact an admin to unlock your account."
    static let deniedMessage = "Logins from this address or for this account are not allowed.  Contact an admin."

    /// Builds the response for a locked-out request (django-defender's `lockout_response`).
    ///
    /// `403` (or `429`, ``DefenderConfiguration/lockoutStatus``) with `Retry-After` set to the seconds left,
    /// unless the block is permanent. In order: JSON clients get `application/problem+json`; then the
    /// ``DefenderConfiguration/lockoutTemplate`` rendered with `req.view`; then a `302` to
    /// ``DefenderConfiguration/lockoutURL``; else a small HTML page.
    public func lockoutResponse(_ lockout: Lockout, format: LockoutResponseFormat = .automatic) async throws -> Response {
        let engine = try engine()
        let config = engine.configuration
        let status = HTTPResponseStatus(statusCode: config.lockoutStatus)
        let message = lockout.reason == .denylisted
            ? Self.deniedMessage : lockout.isPermanent ? Self.permanentMessage : Self.temporaryMessage
        var headers = HTTPHeaders()
        headers.add(name: .cacheControl, value: "no-store")
        if let seconds = lockout.retryAfterSeconds { headers.add(name: .retryAfter, value: String(seconds)) }
        if config.rateLimitHeaders { RateLimitHeaders.addLocked(to: &headers, config, lockout: lockout) }

        if format == .json || (format == .automatic && wantsJSON) {
            let problem = LockoutProblem(
                title: "Too many failed login attempts", status: Int(status.code), detail: message,
                retryAfter: lockout.retryAfterSeconds)
            headers.contentType = .problemJSON
            return Response(status: status, headers: headers, body: .init(data: try JSONEncoder().encode(problem)))
        }
        if let template = config.lockoutTemplate {
            let context = LockoutTemplateContext(
                cooloff_time_seconds: lockout.retryAfterSeconds ?? 0,
                cooloff_time_minutes: Double(lockout.retryAfterSeconds ?? 0) / 60,
                failure_limit: config.loginFailureLimit,
                permanent: lockout.isPermanent)
            let response = try await request.view.render(template, context).encodeResponse(for: request)
            response.status = status
            for (name, value) in headers { response.headers.replaceOrAdd(name: name, value: value) }
            return response
        }
        if let url = config.lockoutURL {
            headers.replaceOrAdd(name: .location, value: url)
            return Response(status: .found, headers: headers)
        }
        headers.contentType = .html
        let wait = lockout.retryAfterSeconds.map { "<p>You can try again in \($0) seconds.</p>" } ?? ""
        let page = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Locked out</title></head>
            <body><h1>Locked out</h1><p>\(message)</p>\(wait)</body></html>

            """
        return Response(status: status, headers: headers, body: .init(string: page))
    }

    /// Whether the client asked for JSON: by `Accept` (whichever of JSON and HTML it names first), else by
    /// sending a JSON body.
    var wantsJSON: Bool {
        // Byte scans, not Foundation's `range(of:)` or a media-type parse: this runs for every refused request.
        let accept = request.headers[.accept].joined(separator: ",")
        switch (Self.offset(of: "json", in: accept), Self.offset(of: "text/html", in: accept)) {
        case (let json?, let html?): return json < html
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): return request.headers.first(name: .contentType).map(MediaType.isJSON) ?? false
        }
    }

    /// Where `needle` (lower-case ASCII) first occurs in `text`, ignoring ASCII case.
    static func offset(of needle: StaticString, in text: String) -> Int? {
        let pattern = UnsafeBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount)
        let bytes = Array(text.utf8)
        guard bytes.count >= pattern.count, !pattern.isEmpty else { return nil }
        for start in 0...(bytes.count - pattern.count) {
            var index = 0
            while index < pattern.count, bytes[start + index] | (bytes[start + index] >= 0x41 && bytes[start + index] <= 0x5A ? 0x20 : 0) == pattern[index] {
                index += 1
            }
            if index == pattern.count { return start }
        }
        return nil
    }
}

/// RFC 9457 problem details of a lockout.
struct LockoutProblem: Codable {
    var type = "about:blank"
    var title: String
    var status: Int
    var detail: String
    /// Seconds until the lock lifts; `null` when permanent.
    var retryAfter: Int?

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encode(title, forKey: .title)
        try container.encode(status, forKey: .status)
        try container.encode(detail, forKey: .detail)
        try container.encode(retryAfter, forKey: .retryAfter)
    }
}

/// The context django-defender gives `LOCKOUT_TEMPLATE`, under the same names.
struct LockoutTemplateContext: Encodable {
    let cooloff_time_seconds: Int
    let cooloff_time_minutes: Double
    let failure_limit: Int
    let permanent: Bool
}
