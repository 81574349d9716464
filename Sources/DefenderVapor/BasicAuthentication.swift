import DefenderHTTP
import Foundation
import Vapor

/// HTTP Basic authentication under Defender's protection (django-defender's `BasicAuthenticationDefender`).
///
/// A middleware in front of the routes it protects. Each request with Basic credentials is admitted like a
/// login (a locked IP or username gets the lockout response, `403`/`429`, without a password check), then
/// `verify` checks the password; a wrong password counts as a failure and is answered `401` with
/// `WWW-Authenticate: Basic`, or with the lockout response when it crosses a limit. A request without an
/// `Authorization` header, or with another scheme, gets the `401` challenge and is not counted (a browser asks
/// that way first). Malformed Basic credentials are a failed login: counted against the IP, and the username
/// too when one can be read; an `Authorization` header over 4 KiB is refused with `400` and never checked.
///
/// ```swift
/// let protected = app.grouped(DefenderBasicAuthenticator { username, password, req in
///     guard let user = try await User.find(named: username, on: req.db),
///           try await req.password.async.verify(password, created: user.passwordHash) else { return false }
///     req.auth.login(user)
///     return true
/// })
/// protected.get("api", "me") { req in try req.auth.require(User.self).username }
/// ```
public struct DefenderBasicAuthenticator: AsyncMiddleware {
    /// Checks a username and password; returns whether they are right. Runs only for admitted requests.
    /// It may log the user in (`req.auth.login`). A thrown `401` (`Abort(.unauthorized)`) counts as a wrong password,
    /// as in a login handler; any other thrown error is passed on and nothing is counted.
    public typealias Verify = @Sendable (_ username: String, _ password: String, _ request: Request) async throws -> Bool

    /// The realm of the `WWW-Authenticate` challenge.
    public let realm: String
    /// The longest `Authorization` header read.
    public static var maximumHeaderLength: Int { BasicCredentials.maximumHeaderLength }
    let verify: Verify

    /// - Parameters:
    ///   - realm: shown by browsers in their login prompt (quotes and backslashes are escaped).
    ///   - verify: the password check.
    public init(realm: String = "Restricted", verify: @escaping Verify) {
        self.realm = realm
        self.verify = verify
    }

    public func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        var login = request.defender
        return try await login.protectBasic(authorization: request.headers[.authorization], realm: realm) { _, username, password in
            try await verify(username, password, request) ? () : nil
        } next: { _, _ in
            try await next.respond(to: request)
        }
    }
}
