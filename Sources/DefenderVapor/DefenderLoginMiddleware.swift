import Vapor

/// Protects the login routes of an existing app without touching their handlers (django-defender's
/// `FailedLoginMiddleware`): requests to the given paths run through ``DefenderRequest/watchLogin(usernameFrom:outcome:format:_:)``.
///
/// ```swift
/// app.middleware.use(DefenderLoginMiddleware(paths: ["/login", "/admin/login"]))
/// ```
///
/// A `POST` to one of the paths is admitted (or refused with the lockout response) before the handler runs, and
/// its response is classified by `outcome`; other methods on those paths are only checked for a lock; other
/// paths pass through untouched.
public struct DefenderLoginMiddleware: AsyncMiddleware {
    /// The protected paths, compared with the path of the route a request is routed to (so every spelling the
    /// router accepts — repeated or trailing slashes, another case when routing ignores case — is protected).
    public let paths: Set<String>
    let lowercasedPaths: Set<String>
    let usernameSource: UsernameSource?
    let outcome: LoginOutcome
    let format: LockoutResponseFormat

    /// - Parameters:
    ///   - paths: URL paths such as `/login`.
    ///   - usernameFrom: where these routes' requests carry the username; by default the app's extractor or
    ///     `DefenderConfiguration/usernameSource`.
    ///   - outcome: how to tell a failed login from a successful one (default: a redirect is a success).
    ///   - format: the lockout response's format.
    public init(
        paths: [String], usernameFrom: UsernameSource? = nil, outcome: LoginOutcome = .redirectMeansSuccess,
        format: LockoutResponseFormat = .automatic
    ) {
        self.paths = Set(paths.map(Self.normalize))
        self.lowercasedPaths = Set(self.paths.map { $0.lowercased() })
        self.usernameSource = usernameFrom
        self.outcome = outcome
        self.format = format
    }

    public func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        // The route the router chose, not the URL's spelling: `/login//` or `/LOGIN` (case-insensitive routing)
        // reach the same handler and must be protected the same way.
        let caseInsensitive = request.application.routes.caseInsensitive
        guard let route = request.route,
            (caseInsensitive ? lowercasedPaths : paths).contains(Self.path(of: route, caseInsensitive: caseInsensitive))
        else { return try await next.respond(to: request) }
        return try await request.defender.watchLogin(usernameFrom: usernameSource, outcome: outcome, format: format) { _ in
            try await next.respond(to: request)
        }
    }

    static func normalize(_ path: String) -> String {
        "/" + path.split(separator: "/").joined(separator: "/")
    }

    /// A route's path as Vapor serves it, as `paths` are written (`/users/:name/login`).
    static func path(of route: Route, caseInsensitive: Bool) -> String {
        let path = "/" + servedComponents(of: route).joined(separator: "/")
        return caseInsensitive ? path.lowercased() : path
    }

    /// A route's path components as Vapor's router serves it: empty constants dropped, as `DefaultResponder` drops
    /// them when it registers the route. `request.route` keeps them (`app.grouped("")`, `post("")`): read as they
    /// are, `/login` registered under an empty group was `//login`, matched no protected path, and went unprotected.
    static func servedComponents(of route: Route) -> [String] {
        route.path.compactMap { component in
            if case .constant(let text) = component, text.isEmpty { return nil }
            return component.description
        }
    }
}
