import DefenderHTTP
import Hummingbird
import HTTPTypes
import Logging

/// A Hummingbird request and its context, as the login rules see a request (`LoginRequest`): the rules themselves
/// are `DefenderHTTP`'s, the same for every framework. The request's body is collected into it and the username
/// and client kept in its context, so the handler gets what Defender read.
struct HummingbirdLoginRequest<Context: DefenderRequestContext>: LoginRequest {
    let defender: HummingbirdDefender
    var request: Request
    var context: Context
    /// The largest body read; `nil`: the context's `maxUploadSize`.
    let maxBodySize: Int?

    func engine() -> Defender { defender.engine }
    mutating func client() throws -> ClientAddress { try defender.client(request, context: &context) }
    var methodName: String { request.method.rawValue }
    var cookieFields: [String] { request.headers[values: .cookie] }
    var isSecure: Bool { defender.isSecure(request, context: context, serverUsesTLS: defender.serverUsesTLS) }
    var routeLabel: String { context.endpointPath ?? "(unrouted)" }
    var attemptContext: AttemptContext { defender.attemptContext(request) }
    var logger: Logger { context.logger }

    mutating func username(from source: UsernameSource?) async throws -> String? {
        try await defender.username(&request, context: &context, maxBodySize: maxBodySize, from: source)
    }

    mutating func cacheUsername(_ username: String?) {
        context.defender.username = username
        context.defender.usernameRead = true
    }

    mutating func credentials<Credentials: Decodable>(_: Credentials.Type) async throws -> Credentials? {
        _ = try await request.collectBody(upTo: maxBodySize ?? context.maxUploadSize)
        return try? await context.requestDecoder.decode(Credentials.self, from: request, context: context)
    }

    func sourceDescription(_ source: UsernameSource?) -> String? {
        UsernameReading.expected(route: source, configuration: defender.engine.configuration)
    }

    func isJSON(_ format: LockoutResponseFormat) -> Bool { defender.isJSON(request, format) }

    func lockoutResponse(_ lockout: Lockout, format: LockoutResponseFormat) -> Response {
        defender.lockoutResponse(lockout, request: request, format: format)
    }

    func response(_ answer: HTTPAnswer) -> Response { Response(answer) }

    func response(_ response: Response, adding fields: HTTPFields) -> Response {
        var response = response
        response.headers.addDefenderFields(fields)
        return response
    }

    func isFailedLogin(_ error: any Error) -> Bool { (error as? any HTTPResponseError)?.status == .unauthorized }

    func error(_ error: any Error, adding fields: HTTPFields) -> any Error {
        guard var error = error as? HTTPError else { return error }
        error.headers.addDefenderFields(fields)
        return error
    }
}

extension HummingbirdDefender {
    /// The login rules' view of a request.
    func login<Context: DefenderRequestContext>(_ request: Request, _ context: Context, maxBodySize: Int? = nil) -> HummingbirdLoginRequest<Context> {
        HummingbirdLoginRequest(defender: self, request: request, context: context, maxBodySize: maxBodySize)
    }
}
