import Foundation

/// Where an attempt came from, for the audit log: django-defender's `AccessAttempt` fields besides the keys.
public struct AttemptContext: Sendable, Hashable {
    /// The `User-Agent` header, cut to 255 bytes (UTF-8, on a scalar).
    public var userAgent: String
    /// The `Accept` header, cut to 1025 bytes (UTF-8, on a scalar).
    public var httpAccept: String
    /// The request path, cut to 255 bytes (UTF-8, on a scalar).
    public var pathInfo: String

    /// The details of one request, each cut to the audit column's length.
    public init(userAgent: String, httpAccept: String, pathInfo: String) {
        self.userAgent = userAgent.truncated(toUTF8Bytes: 255)
        self.httpAccept = httpAccept.truncated(toUTF8Bytes: 1025)
        self.pathInfo = pathInfo.truncated(toUTF8Bytes: 255)
    }
}

/// One row of the audit log: a login whose password was checked (refused requests are not logged, as in
/// django-defender).
public struct AccessAttemptRecord: Sendable, Hashable {
    /// When the password was checked.
    public var attemptTime: Date
    /// The username as submitted, cut to 255 bytes (UTF-8, on a scalar); `nil` when there was none.
    public var username: String?
    /// The client address (not its IPv6 group).
    public var ipAddress: String
    /// The `User-Agent` header, cut to 255 bytes (UTF-8, on a scalar).
    public var userAgent: String
    /// The `Accept` header, cut to 1,025 characters.
    public var httpAccept: String
    /// The request path, cut to 255 bytes (UTF-8, on a scalar).
    public var pathInfo: String
    /// Whether the login succeeded.
    public var loginValid: Bool

    /// A row with every column given.
    public init(
        attemptTime: Date, username: String?, ipAddress: String, userAgent: String, httpAccept: String, pathInfo: String,
        loginValid: Bool
    ) {
        self.attemptTime = attemptTime
        self.username = username.map(Self.storable)
        self.ipAddress = ipAddress
        self.userAgent = Self.storable(userAgent)
        self.httpAccept = Self.storable(httpAccept)
        self.pathInfo = Self.storable(pathInfo)
        self.loginValid = loginValid
    }

    /// The text with each NUL written as U+FFFD: PostgreSQL refuses a NUL in text, and a row it refuses is a login
    /// missing from the log, so a client could keep its attempts out of the log by the shape of its username.
    package static func storable(_ text: String) -> String {
        guard text.utf8.contains(0) else { return text }
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars { result.append(scalar == "\u{0}" ? "\u{FFFD}" : scalar) }
        return String(result)
    }

    /// The row of a recorded attempt.
    public init(_ attempt: LoginAttempt, valid: Bool, at time: Date = Date()) {
        let context = attempt.context ?? AttemptContext(userAgent: "", httpAccept: "", pathInfo: "")
        self.init(
            attemptTime: time, username: attempt.submittedUsername, ipAddress: attempt.ip.address.description,
            userAgent: context.userAgent, httpAccept: context.httpAccept, pathInfo: context.pathInfo, loginValid: valid)
    }
}

/// Receives every recorded attempt (`DEFENDER_STORE_ACCESS_ATTEMPTS`). Called on the login path: an
/// implementation queues the row and returns (see `FluentAccessLog` in `DefenderFluent`).
public protocol AccessAttemptLog: Sendable {
    /// Writes one row (or queues it); never throws: a log that cannot write reports it in its own log.
    func record(_ attempt: AccessAttemptRecord) async
}
