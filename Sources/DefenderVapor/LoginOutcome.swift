import DefenderHTTP
import Vapor

/// How ``DefenderRequest/watchLogin(usernameFrom:outcome:format:_:)`` tells a failed login from a successful one.
public struct LoginOutcome: Sendable {
    /// The verdict on one response (`LoginVerdict`, shared by every integration).
    public typealias Verdict = LoginVerdict

    let classify: @Sendable (Response) -> Verdict

    /// Creates a detector from a closure.
    public init(_ classify: @escaping @Sendable (Response) -> Verdict) {
        self.classify = classify
    }

    /// django-defender's default: a redirect (3xx with `Location`) is a success; any other response below 500
    /// (the form shown again, a 401, a 400) is a failure. Server errors are not counted, so that an outage of
    /// the user database does not lock users out.
    public static let redirectMeansSuccess = LoginOutcome { response in
        .redirectMeansSuccess(status: Int(response.status.code), hasLocation: response.headers.first(name: .location) != nil)
    }

    /// django-defender's `watch_login(status_code:, msg:)`: a response with this status (and, when given, this
    /// text in its body) is a failure; a 2xx or 3xx is a success; anything else is not counted (0.9.8 counted
    /// it as a success and reset the counters).
    public static func status(_ status: HTTPStatus, message: String? = nil) -> LoginOutcome {
        LoginOutcome { response in
            var contains = true
            if response.status == status, let message, !message.isEmpty {
                contains = (response.body.buffer.map { String(buffer: $0) } ?? response.body.string ?? "").contains(message)
            }
            return .failureStatus(Int(status.code), status: Int(response.status.code), bodyContainsMessage: contains)
        }
    }
}
