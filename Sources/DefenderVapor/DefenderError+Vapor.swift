import DefenderHTTP
import Vapor

/// Defender's errors answer with the status every integration gives them (`DefenderHTTP`'s rule).
extension DefenderError: AbortError {
    public var status: HTTPResponseStatus { HTTPResponseStatus(statusCode: httpStatus) }

    public var reason: String { message }

    public var headers: HTTPHeaders {
        retryAfterSeconds.map { ["Retry-After": String($0)] } ?? [:]
    }
}
