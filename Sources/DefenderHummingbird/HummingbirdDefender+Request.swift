import DefenderHTTP
import Hummingbird
import HTTPTypes
import Mustache
import NIOCore

extension HummingbirdDefender {
    /// The client of a request, resolved once (see `ClientIPResolver`).
    /// - Throws: `DefenderError` with `DefenderError/Code/malformedForwardingHeader` (answered `400`) when a
    ///   trusted proxy forwarded a header whose client entry is not an address.
    public func client(_ request: Request, context: inout some DefenderRequestContext) throws -> ClientAddress {
        if let client = context.defender.client { return client }
        let headers = request.headers
        let client = try engine.resolver.client(peer: context.remoteAddress) { name in HTTPField.Name(name).map { headers[values: $0] } ?? [] }
        context.defender.client = client
        return client
    }

    /// Whether the client reached the site over TLS, as a trusted proxy says (`X-Forwarded-Proto`, `Forwarded`);
    /// pass `serverUsesTLS` when the server itself speaks TLS. Cookies set for such a request should be `Secure`.
    public func isSecure(_ request: Request, context: some DefenderRequestContext, serverUsesTLS: Bool = false) -> Bool {
        if serverUsesTLS { return true }
        let headers = request.headers
        return engine.resolver.forwardedHTTPS(peer: context.remoteAddress) { name in
            HTTPField.Name(name).map { headers[values: $0] } ?? []
        }
    }

    /// The username of a login request, read once, from `source` (by default
    /// `DefenderConfiguration/usernameSource`): a path parameter, or the body field
    /// `DefenderConfiguration/usernameFormField` read with the context's own request decoder (the reading a
    /// handler's `request.decode(as:context:)` gives). Collects the body first, up to `maxBodySize`.
    /// - Parameters:
    ///   - request: the request; its body is collected.
    ///   - context: its context; the username is kept in `context.defender`.
    ///   - maxBodySize: the largest body read; by default the context's `maxUploadSize`.
    ///   - source: where this route's requests carry the username; by default the app's.
    /// - Throws: `413` (Hummingbird's answer to `NIOTooManyBytesError`) for a larger body.
    public func username<Context: DefenderRequestContext>(
        _ request: inout Request, context: inout Context, maxBodySize: Int? = nil, from source: UsernameSource? = nil
    ) async throws -> String? {
        if context.defender.usernameRead { return context.defender.username }
        let username: String?
        switch UsernameReading(route: source, configuration: engine.configuration) {
        case .none:
            username = nil
        case .pathParameter(let name):
            username = context.parameters.get(name)
        case .bodyField(let field):
            _ = try await request.collectBody(upTo: maxBodySize ?? context.maxUploadSize)
            let collected = request
            let reading = context
            username = await BodyField.read(field) {
                try await reading.requestDecoder.decode(BodyField.self, from: collected, context: reading)
            }
        }
        context.defender.username = username
        context.defender.usernameRead = true
        return username
    }

    /// The request's details for the audit log.
    func attemptContext(_ request: Request) -> AttemptContext {
        AttemptContext(userAgent: request.headers[values: .userAgent], accept: request.headers[values: .accept], path: request.uri.path)
    }

    /// The response for a locked-out request (django-defender's `lockout_response`), the same as every
    /// integration's: `403` (or `429`) with `Retry-After`, problem+json for JSON clients, else
    /// `LOCKOUT_TEMPLATE` from ``views``, else a `302` to `LOCKOUT_URL`, else the lockout page.
    public func lockoutResponse(_ lockout: Lockout, request: Request, format: LockoutResponseFormat = .automatic) -> Response {
        switch LockoutAnswer(lockout, configuration: engine.configuration, json: isJSON(request, format), templates: runtime.templates).body {
        case .ready(let answer):
            return Response(answer)
        case .template(let name, let templateContext, let status, var fields):
            fields[.contentType] = HTTPAnswer.html
            let page = views?.render(templateContext, withTemplate: name) ?? ""
            return Response(HTTPAnswer(status: status, fields: fields, body: Array(page.utf8)))
        }
    }

    /// The answer to a wrong username or password, in the route's format: `401` with problem+json for a JSON
    /// client (or `format: .json`), else a small HTML page; `Cache-Control: no-store`. Returned from a
    /// `watchLogin` handler it counts as a failed login, like any `401`, without an error being thrown and logged.
    /// - Parameters:
    ///   - request: the login request.
    ///   - detail: what the person reads (the same for an unknown user and a wrong password).
    ///   - format: the answer's format; by default from the request (`Accept`, a JSON body).
    public func failedLogin(_ request: Request, detail: String = "Invalid username or password.", format: LockoutResponseFormat = .automatic) -> Response {
        Response(HTTPAnswer.failedLogin(json: isJSON(request, format), detail: detail))
    }

    /// Whether a response in `format` is problem+json for this request.
    func isJSON(_ request: Request, _ format: LockoutResponseFormat) -> Bool {
        format.isJSON(accept: request.headers[values: .accept], contentType: request.headers[values: .contentType])
    }
}

extension Response {
    /// A framework-neutral answer as a Hummingbird response.
    package init(_ answer: HTTPAnswer) {
        self.init(
            status: HTTPResponse.Status(code: answer.status), headers: answer.fields,
            body: answer.body.isEmpty ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}

/// Defender's errors answer with the status and problem body every integration gives them.
extension DefenderError: HTTPResponseError {
    public var status: HTTPResponse.Status { HTTPResponse.Status(code: httpStatus) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(answer)
    }
}
