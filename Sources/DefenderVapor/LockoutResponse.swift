import DefenderHTTP
import Foundation
import HTTPTypes
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
    /// Builds the response for a locked-out request (django-defender's `lockout_response`), from the
    /// framework-neutral `LockoutAnswer`.
    ///
    /// `403` (or `429`, `DefenderConfiguration/lockoutStatus`) with `Retry-After` set to the seconds left,
    /// unless the block is permanent. In order: JSON clients get `application/problem+json`; then the
    /// `DefenderConfiguration/lockoutTemplate` rendered with `req.view`; then a `302` to
    /// `DefenderConfiguration/lockoutURL`; else a small HTML page.
    public func lockoutResponse(_ lockout: Lockout, format: LockoutResponseFormat = .automatic) async throws -> Response {
        let answer = LockoutAnswer(
            lockout, configuration: try engine().configuration, json: isJSON(format),
            templates: try request.application.defender.templatesInForce())
        switch answer.body {
        case .ready(let ready):
            return Response(ready)
        case .template(let name, let context, let status, let fields):
            let response = try await request.view.render(name, context).encodeResponse(for: request)
            response.status = HTTPResponseStatus(statusCode: status)
            response.headers.apply(fields)
            return response
        }
    }

    /// Whether a response in `format` is problem+json for this client.
    func isJSON(_ format: LockoutResponseFormat) -> Bool {
        format == .json || (format == .automatic && wantsJSON)
    }

    /// Whether the client asked for JSON: by `Accept` (whichever of JSON and HTML it names first), else by
    /// sending a JSON body.
    var wantsJSON: Bool {
        ClientPreference.wantsJSON(accept: request.headers[.accept], contentType: request.headers.first(name: .contentType))
    }
}

extension Response {
    /// A framework-neutral answer as a Vapor response.
    convenience init(_ answer: HTTPAnswer) {
        var headers = HTTPHeaders()
        headers.apply(answer.fields)
        self.init(status: HTTPResponseStatus(statusCode: answer.status), headers: headers, body: .init(data: Data(answer.body)))
    }
}

extension HTTPHeaders {
    /// Sets each field of `fields`, replacing a header of the same name.
    mutating func apply(_ fields: HTTPFields) {
        for field in fields { replaceOrAdd(name: field.name.rawName, value: field.value) }
    }
}
