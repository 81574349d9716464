import DefenderHTTP
import HTTPTypes
import Vapor

/// Vapor's answers to the questions the login rules ask of a request (`LoginRequest`): the rules themselves are
/// `DefenderHTTP`'s, the same for every framework.
extension DefenderRequest: LoginRequest {
    /// Vapor's response (named here so that `Response` in this type's methods stays Vapor's).
    public typealias Response = Vapor.Response

    package var methodName: String { request.method.rawValue }
    package var cookieFields: [String] { request.headers[.cookie] }
    package var attemptContext: AttemptContext { context }
    package var logger: Logger { request.logger }

    package func response(_ answer: HTTPAnswer) -> Response { Response(answer) }

    package func response(_ response: Response, adding fields: HTTPFields) -> Response {
        response.headers.apply(fields)
        return response
    }

    package func isFailedLogin(_ error: any Error) -> Bool { (error as? any AbortError)?.status == .unauthorized }

    /// Vapor's own `Abort` gets the fields, keeping its reason, identifier and source. An app's own `AbortError`
    /// type is thrown on as it is: the app's error middleware may look for that type, and a copy as `Abort` would
    /// hide it (such an error's response carries no `RateLimit` fields; answer with a `Response` to have them).
    package func error(_ error: any Error, adding fields: HTTPFields) -> any Error {
        guard var abort = error as? Abort else { return error }
        abort.headers.apply(fields)
        return abort
    }
}
