import DefenderHTTP
import Hummingbird

/// How a protected Hummingbird login tells a failed login from a successful one (the rules every integration
/// shares).
public struct LoginOutcome: Sendable {
    let classify: @Sendable (Response) -> LoginVerdict

    /// Creates a detector from a closure.
    public init(_ classify: @escaping @Sendable (Response) -> LoginVerdict) {
        self.classify = classify
    }

    /// django-defender's default: a redirect (3xx with `Location`) is a success; any other response below 500 is a
    /// failure; server errors are not counted.
    public static let redirectMeansSuccess = LoginOutcome { response in
        .redirectMeansSuccess(status: response.status.code, hasLocation: response.headers[.location] != nil)
    }

    /// django-defender's `watch_login(status_code:)`: a response with this status is a failure, a 2xx or 3xx a
    /// success, anything else is not counted.
    public static func status(_ status: HTTPResponse.Status) -> LoginOutcome {
        LoginOutcome { response in .failureStatus(status.code, status: response.status.code) }
    }
}
