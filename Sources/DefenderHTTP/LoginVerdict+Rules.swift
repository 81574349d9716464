import HTTPTypes
import DefenderCore

extension LoginVerdict {
    /// django-defender's default: a redirect (3xx with `Location`) is a success; any other response below 500
    /// (the form shown again, a 401, a 400) is a failure. Server errors are not counted, so that an outage of
    /// the user database does not lock users out.
    package static func redirectMeansSuccess(status: Int, hasLocation: Bool) -> LoginVerdict {
        if status >= 500 { return .notCounted }
        if (300..<400).contains(status), hasLocation { return .success }
        return .failure
    }

    /// django-defender's `watch_login(status_code:, msg:)`: a response with the failure status (and, when a message
    /// is given, that text in its body: `bodyContainsMessage`) is a failure; a 2xx or 3xx is a success; anything
    /// else is not counted (0.9.8 counted it as a success and reset the counters).
    package static func failureStatus(_ failure: Int, status: Int, bodyContainsMessage: Bool = true) -> LoginVerdict {
        if status == failure { return bodyContainsMessage ? .failure : .notCounted }
        return (200..<400).contains(status) ? .success : .notCounted
    }
}

extension LoginProtection {
    /// Whether a request with this method is a login attempt, counted; `GET`, `HEAD` and `OPTIONS` (the login
    /// page) are only checked for a lock.
    package static func isAttempt(method: String) -> Bool {
        method != "GET" && method != "HEAD" && method != "OPTIONS"
    }
}
