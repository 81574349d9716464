import DefenderHTTP
import Vapor

/// Defender's errors answer with the status every integration gives them (`DefenderHTTP`'s rule).
extension DefenderError: AbortError, DebuggableError {
    public var status: HTTPResponseStatus { HTTPResponseStatus(statusCode: httpStatus) }

    public var reason: String { message }

    public var headers: HTTPHeaders {
        retryAfterSeconds.map { ["Retry-After": String($0)] } ?? [:]
    }

    /// The code (`admissionTimeout`, `storeUnavailable`, …).
    public var identifier: String { code.description }

    /// The level Vapor's error middleware logs this error at when it answers with it (Defender's protected routes
    /// answer their own errors and log them at the same level): `debug` for what a client causes once per
    /// request, so that a client cannot make as many lines as requests (Defender logs what an operator must know
    /// itself: capped, or once per outage); `error` for what someone must fix (a setting, a store fault).
    public var logLevel: Logger.Level { answerLogLevel }
}
