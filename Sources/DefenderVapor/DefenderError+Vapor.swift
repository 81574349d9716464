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

    /// The level Vapor's error middleware logs this error at when it answers with it. `debug` for the errors a
    /// client causes once per request — an admission timeout, a refusal while the store is down under the
    /// `closed` policy, a forwarding header a proxy passed on, a bad key — so that a client cannot make as many
    /// lines as requests (Defender logs what an operator must know itself: capped, or once per outage); `error`
    /// for what someone must fix (a setting, a store fault); `warning` otherwise.
    public var logLevel: Logger.Level {
        switch code {
        case .admissionTimeout, .storeUnavailable, .malformedForwardingHeader, .invalidKey: .debug
        case .invalidConfiguration, .storeFault: .error
        default: .warning
        }
    }
}
