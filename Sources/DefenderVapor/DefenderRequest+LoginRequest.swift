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

    package func response(_ answer: HTTPAnswer) -> Response { Response(answer) }

    package func response(_ response: Response, adding fields: HTTPFields) -> Response {
        response.headers.apply(fields)
        return response
    }

    package func isFailedLogin(_ error: any Error) -> Bool { (error as? any AbortError)?.status == .unauthorized }

    package func error(_ error: any Error, adding fields: HTTPFields) -> any Error {
        guard let abort = error as? any AbortError else { return error }
        var headers = abort.headers
        headers.apply(fields)
        return Abort(abort.status, headers: headers, reason: abort.reason)
    }
}
