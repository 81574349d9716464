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
/// case-insensitive router's routes are lowercased, and a path matches them in any case). Add the middleware before
/// the routes it covers, as every Hummingbird middleware.
public struct DefenderLoginMiddleware<Context: DefenderRequestContext>: RouterMiddleware {
    /// The protected routes, as registered (`/login`, `/users/{name}/login`).
    public let paths: Set<String>
    let defender: HummingbirdDefender
    let usernameSource: UsernameSource?
    let outcome: LoginOutcome
    let format: LockoutResponseFormat
    let maxBodySize: Int?
    /// A case-insensitive router registers, and so matches, every route lowercased: `/Login` is `/login` there.
    let lowercasedPaths: Set<String>

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
        self.lowercasedPaths = Set(self.paths.map { $0.lowercased() })
        self.outcome = outcome
        self.format = format
        self.maxBodySize = maxBodySize
    }

    /// Protects a request to one of ``paths``; passes any other through untouched.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let path = context.endpointPath.map(Self.normalize), paths.contains(path) || lowercasedPaths.contains(path) else {
            return try await next(request, context)
        }
        return try await defender.watchLogin(
            request, context: context, usernameFrom: usernameSource, outcome: outcome, format: format, maxBodySize: maxBodySize, next)
    }

    /// `/login`, whatever the slashes (Hummingbird writes a parameter as `{name}`; `:name` is read the same way).
    static func normalize(_ path: String) -> String {
        "/" + path.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
    }
}
