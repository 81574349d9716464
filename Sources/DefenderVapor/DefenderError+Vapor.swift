import Vapor

extension DefenderError: AbortError {
    public var status: HTTPResponseStatus {
        switch code {
        case .malformedForwardingHeader, .invalidKey: return .badRequest
        case .storeUnavailable: return .serviceUnavailable
        default: return .internalServerError
        }
    }

    public var reason: String { message }
}
