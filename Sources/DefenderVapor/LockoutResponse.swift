import DefenderHTTP
import Foundation
import HTTPTypes
import Vapor

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

    /// The answer to a wrong username or password, in the route's format: `401` with problem+json for a JSON
    /// client (or `format: .json`), else a small HTML page; `Cache-Control: no-store`. Returned from a
    /// `watchLogin` handler it counts as a failed login, like any `401`, and — unlike a thrown `Abort` — no error
    /// middleware answers `{"error":true,…}` or logs a wrong password as a warning.
    ///
    /// ```swift
    /// guard valid else { return req.defender.failedLogin() }
    /// ```
    /// - Parameters:
    ///   - detail: what the person reads (the same for an unknown user and a wrong password).
    ///   - format: the answer's format; by default from the request (`Accept`, a JSON body).
    public func failedLogin(detail: String = "Invalid username or password.", format: LockoutResponseFormat = .automatic) -> Response {
        Response(HTTPAnswer.failedLogin(json: isJSON(format), detail: detail))
    }

    /// Whether a response in `format` is problem+json for this client.
    package func isJSON(_ format: LockoutResponseFormat) -> Bool {
        format.isJSON(accept: request.headers[.accept], contentType: request.headers[.contentType])
    }
}

extension Response {
    /// A framework-neutral answer as a Vapor response.
    package convenience init(_ answer: HTTPAnswer) {
        var headers = HTTPHeaders()
        headers.apply(answer.fields)
        self.init(status: HTTPResponseStatus(statusCode: answer.status), headers: headers, body: .init(data: Data(answer.body)))
    }
}

extension HTTPHeaders {
    /// Sets each field of `fields`, replacing a header of the same name, except that a `Set-Cookie` (a device
    /// cookie) is added beside the handler's own.
    mutating func apply(_ fields: HTTPFields) {
        for field in fields {
            if field.name == .setCookie { add(name: field.name.rawName, value: field.value) } else { replaceOrAdd(name: field.name.rawName, value: field.value) }
        }
    }
}
