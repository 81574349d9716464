import Vapor

/// Protects the login routes of an existing app without touching their handlers (django-defender's
/// `FailedLoginMiddleware`): requests to the given paths run through ``DefenderRequest/watchLogin(outcome:format:_:)``.
///
/// ```swift
/// app.middleware.use(DefenderLoginMiddleware(paths: ["/login", "/admin/login"]))
/// ```
///
/// A `POST` to one of the paths is admitted (or refused with the lockout response) before the handler runs, and
/// its response is classified by `outcome`; other methods on those paths are only checked for a lock; other
/// paths pass through untouched.
public struct DefenderLoginMiddleware: AsyncMiddleware {
    /// The protected paths, compared exactly (a trailing slash ignored).
    public let paths: Set<String>
    let outcome: LoginOutcome
    let format: LockoutResponseFormat

    /// - Parameters:
    ///   - paths: URL paths such as `/login`.
    ///   - outcome: how to tell a failed login from a successful one (default: a redirect is a success).
    ///   - format: the lockout response's format.
    public init(paths: [String], outcome: LoginOutcome = .redirectMeansSuccess, format: LockoutResponseFormat = .automatic) {
        self.paths = Set(paths.map(Self.normalize))
        self.outcome = outcome
        self.format = format
    }

    public func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard paths.contains(Self.normalize(request.url.path)) else { return try await next.respond(to: request) }
        return try await request.defender.watchLogin(outcome: outcome, format: format) { _ in try await next.respond(to: request) }
    }

    static func normalize(_ path: String) -> String {
        path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }
}
