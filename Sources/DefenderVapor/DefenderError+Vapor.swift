import Vapor

extension DefenderError: AbortError {
    public var status: HTTPResponseStatus {
        switch code {
        case .malformedForwardingHeader, .invalidKey: return .badRequest
        case .storeUnavailable, .storeFault, .admissionTimeout: return .serviceUnavailable
        default: return .internalServerError
        }
    }

    public var reason: String { message }

    public var headers: HTTPHeaders {
        // Checks in flight finish within a password check or two: asking again soon is the right advice.
        code == .admissionTimeout ? ["Retry-After": "1"] : [:]
    }
}
