import DefenderCore
import HTTPTypes
import Logging

/// One request of an HTTP integration, as the login rules see it.
///
/// A framework adapter (Vapor's `DefenderRequest`, Hummingbird's request and context) answers these questions
/// about its request and builds its own responses; every rule of a protected login — refusal by address before
/// the body is read, the one reading of the credentials, what counts, what is answered — is written once, in the
/// extension of this protocol (`LoginRequest+Rules.swift`), so that two frameworks cannot apply two versions of it.
package protocol LoginRequest {
    /// The framework's response.
    associatedtype Response: Sendable

    /// The application's engine.
    func engine() throws -> Defender
    /// The client, resolved once per request (see `ClientIPResolver`).
    mutating func client() throws -> ClientAddress
    /// The request method (`POST`), to tell an attempt from a look at the login page.
    var methodName: String { get }
    /// The request's `Cookie` field values (read only when device cookies are on).
    var cookieFields: [String] { get }
    /// Whether the client reached the site over TLS (for a device cookie's `Secure`).
    var isSecure: Bool { get }
    /// The route as registered (`/users/:name/login`): a label a client cannot choose.
    var routeLabel: String { get }
    /// The request's details for the audit log.
    var attemptContext: AttemptContext { get }
    /// The request's logger (with the framework's request metadata), for the errors Defender answers itself.
    var logger: Logger { get }

    /// The submitted username, read once per request, from `source` or the app's default.
    mutating func username(from source: UsernameSource?) async throws -> String?
    /// Keeps `username` as the request's username (read from credentials), for the helpers that read it later.
    mutating func cacheUsername(_ username: String?)
    /// The body decoded as `Credentials` by the app's own decoder for its media type, or `nil` when it is not one.
    mutating func credentials<Credentials: Decodable>(_: Credentials.Type) async throws -> Credentials?
    /// How a route with `source` reads its username, for the report of a success without one; `nil` when it reads
    /// none on purpose (`UsernameSource/ipOnly`).
    func sourceDescription(_ source: UsernameSource?) -> String?

    /// Whether an answer in `format` is problem+json for this client.
    func isJSON(_ format: LockoutResponseFormat) -> Bool
    /// The lockout response (django-defender's `lockout_response`).
    func lockoutResponse(_ lockout: Lockout, format: LockoutResponseFormat) async throws -> Response
    /// A framework-neutral answer as the framework's response.
    func response(_ answer: HTTPAnswer) -> Response
    /// The handler's response with Defender's fields added (`HTTPFields/addDefenderFields(_:)`).
    func response(_ response: Response, adding fields: HTTPFields) -> Response
    /// Whether an error a login handler threw is a failed login (a thrown `401`).
    func isFailedLogin(_ error: any Error) -> Bool
    /// A thrown failed login with Defender's fields added, when the framework's error can carry them.
    func error(_ error: any Error, adding fields: HTTPFields) -> any Error
}
