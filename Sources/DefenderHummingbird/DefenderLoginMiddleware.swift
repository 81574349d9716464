import DefenderHTTP
import Hummingbird

/// Protects the login routes of an app without touching their handlers (django-defender's
/// `FailedLoginMiddleware`): requests to the given paths run through
/// `HummingbirdDefender/watchLogin(_:context:usernameFrom:outcome:format:maxBodySize:_:)`. The body is collected once, within
/// `maxBodySize`, and the handler gets it with `context.defender.username` set: the username Defender counted.
///
/// ```swift
/// router.add(middleware: DefenderLoginMiddleware(defender, paths: ["/login"]))
/// ```
///
/// Paths are compared with the route the router matched (so every spelling it accepts is protected; a
/// case-insensitive router's routes are lowercased, and a path matches them in any case), and with the request's
/// own path, read as the routers read it (split at `/`, empty parts dropped, constants in any case): the
/// result-builder router (`RouterBuilder`) runs its middleware before it matches a route, so there the matched
/// route is not known yet — or is a `RouteGroup`'s prefix — and the request's path decides. Add the middleware
/// before the routes it covers, as every Hummingbird middleware.
public struct DefenderLoginMiddleware<Context: DefenderRequestContext>: RouterMiddleware {
    /// The protected routes, as registered (`/login`, `/users/{name}/login`).
    public let paths: Set<String>
    let defender: HummingbirdDefender
    let usernameSource: UsernameSource?
    let outcome: LoginOutcome
    let format: LockoutResponseFormat
    let maxBodySize: Int?
    /// A case-insensitive router registers, and so matches, every route lowercased as Hummingbird lowercases it
    /// (constants only; a parameter's name keeps its case): `/Users/{userName}/Login` is `/users/{userName}/login`.
    let lowercasedPaths: Set<String>
    /// The protected routes as Hummingbird reads a route, to match a request's own path.
    let patterns: [RouterPath]

    /// - Parameters:
    ///   - defender: Defender.
    ///   - paths: route paths such as `/login`.
    ///   - usernameFrom: where these routes' requests carry the username; by default
    ///     `DefenderConfiguration/usernameSource`.
    ///   - outcome: how to tell a failed login from a successful one (default: a redirect is a success).
    ///   - format: the lockout response's format.
    ///   - maxBodySize: the largest body read; by default the context's `maxUploadSize`.
    public init(
        _ defender: HummingbirdDefender, paths: [String], usernameFrom: UsernameSource? = nil, outcome: LoginOutcome = .redirectMeansSuccess,
        format: LockoutResponseFormat = .automatic, maxBodySize: Int? = nil
    ) {
        self.defender = defender
        self.usernameSource = usernameFrom
        self.paths = Set(paths.map(Self.normalize))
        self.patterns = self.paths.map { RouterPath($0) }
        self.lowercasedPaths = Set(patterns.map { $0.lowercased().description })
        self.outcome = outcome
        self.format = format
        self.maxBodySize = maxBodySize
    }

    /// Protects a request to one of ``paths``; passes any other through untouched.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard protects(request, context: context) else { return try await next(request, context) }
        return try await defender.watchLogin(
            request, context: context, usernameFrom: usernameSource, outcome: outcome, format: format, maxBodySize: maxBodySize, next)
    }

    /// Whether the request goes to a protected route: the route the router matched, or else the request's own path.
    /// A path that matches in another case is protected too (a case-sensitive router would not route it there; a
    /// case-insensitive one does, and the middleware cannot tell which it is behind).
    func protects(_ request: Request, context: Context) -> Bool {
        if let endpoint = context.endpointPath.map(Self.normalize), paths.contains(endpoint) || lowercasedPaths.contains(endpoint) { return true }
        let components = request.uri.path.split(separator: "/")
        return patterns.contains { Self.matches($0, components) }
    }

    /// Whether path components match a route, element by element as Hummingbird's routers match them (`**` takes
    /// the rest), in any case.
    static func matches(_ pattern: RouterPath, _ components: [Substring]) -> Bool {
        var index = 0
        for element in pattern {
            if element.description == "**" { return true }
            guard index < components.count else { return false }
            guard element ~= components[index] || element.lowercased() ~= components[index].lowercased() else { return false }
            index += 1
        }
        return index == components.count
    }

    /// `/login`, whatever the slashes (Hummingbird writes a parameter as `{name}`; `:name` is read the same way).
    static func normalize(_ path: String) -> String {
        "/" + path.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
    }
}
