import DefenderHTTP
import Hummingbird
import HummingbirdAuth
import HummingbirdBasicAuth
import HTTPTypes

/// HTTP Basic authentication under Defender's protection (django-defender's `BasicAuthenticationDefender`), for
/// hummingbird-auth contexts.
///
/// A middleware in front of the routes it protects, in place of hummingbird-auth's `BasicAuthenticator`. Each
/// request with Basic credentials is admitted like a login — a locked IP or username gets the lockout response
/// (`403`/`429`, problem+json) and **never reaches the password verifier** — then the user is looked up and the
/// password verified; a wrong password counts as a failure and is answered `401` with `WWW-Authenticate: Basic`,
/// or with the lockout response when it crosses a limit. On success `context.identity` is the user. A request
/// without Basic credentials gets the `401` challenge and is not counted (a browser asks that way first);
/// malformed credentials are a failed login; an `Authorization` header over 4 KiB is refused with `400`.
///
/// ```swift
/// router.group("api").add(middleware: DefenderBasicAuthenticator(defender, users: users))  // bcrypt by default
///     .get("me") { _, context in try context.requireIdentity().name }
/// ```
public struct DefenderBasicAuthenticator<Context: DefenderRequestContext & AuthRequestContext>: RouterMiddleware {
    /// Checks a username and password: the user when they are right, else `nil`. Runs only for admitted requests;
    /// a thrown `401` (`HTTPError(.unauthorized)`) counts as a wrong password, as in a login handler, and any other
    /// thrown error is passed on and nothing is counted.
    public typealias Verify = @Sendable (_ username: String, _ password: String, _ context: Context) async throws -> Context.Identity?

    /// The realm of the `WWW-Authenticate` challenge.
    public let realm: String
    let defender: HummingbirdDefender
    let verify: Verify

    /// - Parameters:
    ///   - defender: Defender.
    ///   - realm: shown by browsers in their login prompt (quotes and backslashes are escaped).
    ///   - verify: the password check.
    public init(_ defender: HummingbirdDefender, realm: String = "Restricted", verify: @escaping Verify) {
        self.defender = defender
        self.realm = realm
        self.verify = verify
    }

    /// hummingbird-auth's flow: the user from `users`, the password checked by `passwordHashVerifier` (bcrypt, off
    /// the event loop, by default). A username with no user (or no password hash) is checked against
    /// `unknownUserHash` all the same and refused, so that the answer takes as long as for an existing account
    /// and its timing does not tell which accounts exist.
    /// - Parameters:
    ///   - defender: Defender.
    ///   - realm: the realm of the `WWW-Authenticate` challenge.
    ///   - users: where users are looked up by name.
    ///   - passwordHashVerifier: checks a password against a user's hash.
    ///   - unknownUserHash: a hash of a password nobody knows, of the cost your users' hashes have; by default a
    ///     bcrypt hash of cost 12.
    public init<Repository: UserPasswordRepository, Verifier: PasswordHashVerifier>(
        _ defender: HummingbirdDefender, realm: String = "Restricted", users: Repository,
        passwordHashVerifier: Verifier = BcryptPasswordVerifier(), unknownUserHash: String = Self.unknownUserBcrypt
    ) where Repository.User == Context.Identity {
        self.init(defender, realm: realm) { username, password, context in
            let user = try await users.getUser(named: username, context: UserRepositoryContext(logger: context.logger))
            let verified = try await passwordHashVerifier.verifyPassword(password, createsHash: user?.passwordHash ?? unknownUserHash)
            guard let user, user.passwordHash != nil, verified else { return nil }
            return user
        }
    }

    /// A bcrypt hash (cost 12) of a random password that was thrown away: what unknown usernames are checked
    /// against.
    public static var unknownUserBcrypt: String { "$2b$12$xewB5cczYeExlJ1aQKN6cOyihdBurXK5Tg4Wi7wB1SqfRpEzTqqTW" }

    /// Admits the request's Basic credentials, verifies them, and calls `next` with `context.identity` set; answers
    /// the challenge, the lockout or `401` otherwise.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var login = defender.login(request, context)
        return try await login.protectBasic(authorization: request.headers[values: .authorization], realm: realm) { login, username, password in
            try await verify(username, password, login.context)
        } next: { login, user in
            var context = login.context
            context.identity = user
            return try await next(request, context)
        }
    }
}
