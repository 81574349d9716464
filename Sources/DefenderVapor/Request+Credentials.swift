import DefenderHTTP
import Vapor

/// One reading of a login's credentials.
///
/// The username Defender counts must be the username whose password is checked, for every request the app
/// accepts. So Defender reads the credentials once, with the application's own content decoders (Vapor's
/// `ContentConfiguration` for the request's media type: JSON, URL-encoded forms, multipart, or whatever the app
/// registered), and hands the handler exactly what it read. There is no second parser, byte scan or fallback
/// that could read another name from the same bytes.
extension DefenderRequest {
    /// Runs a login handler under protection, with the credentials decoded once by Defender.
    ///
    /// The body is decoded as `Credentials` with the app's content decoder for the request's media type
    /// (`req.content.decode`), the username at `username` is the one counted, and the handler receives the
    /// decoded value: check the password of `credentials[keyPath: username]` and nothing else. A body that
    /// cannot be decoded as `Credentials` (another media type, invalid JSON, a missing required field) names
    /// no username: it is counted against the client IP as a failed login, the handler is not called,
    /// and the answer is `400 Bad Request` (problem+json for JSON clients), or the lockout response once the
    /// IP is over its limit. Every method is a counted attempt (the handler is handed credentials to check, so a
    /// `GET` or `HEAD` of the route is one too); everything else is as `watchLogin(usernameFrom:outcome:format:_:)`.
    ///
    /// ```swift
    /// struct LoginForm: Content { var username: String; var password: String }
    ///
    /// app.post("login") { req async throws -> Response in
    ///     try await req.defender.watchLogin(LoginForm.self, username: \.username) { form in
    ///         guard try await checkPassword(username: form.username, password: form.password, on: req) else {
    ///             return Response(status: .unauthorized)
    ///         }
    ///         return req.redirect(to: "/")
    ///     }
    /// }
    /// ```
    /// - Parameters:
    ///   - credentials: the type the app decodes its login requests as.
    ///   - username: where the username is in it.
    ///   - outcome: how to tell a failed login from a successful one.
    ///   - format: the format of the lockout and `400` responses.
    ///   - handler: the login handler; it receives the decoded credentials.
    /// - Throws: as `watchLogin(usernameFrom:outcome:format:_:)`; `413` when the body is over the routes' maximum size.
    public func watchLogin<Credentials: Decodable & Sendable>(
        _ credentials: Credentials.Type, username: KeyPath<Credentials, String>,
        outcome: LoginOutcome = .redirectMeansSuccess, format: LockoutResponseFormat = .automatic,
        _ handler: @Sendable (Credentials) async throws -> Response
    ) async throws -> Response {
        try await watchLogin(credentials, reading: { $0[keyPath: username] }, outcome: outcome, format: format, handler)
    }

    /// Runs a login handler under protection, with the credentials decoded once by Defender; the username may
    /// be absent (`nil` or empty: only the IP is counted). See `watchLogin(_:username:outcome:format:_:)-(_,KeyPath<Credentials,String>,_,_,_)`.
    public func watchLogin<Credentials: Decodable & Sendable>(
        _ credentials: Credentials.Type, username: KeyPath<Credentials, String?>,
        outcome: LoginOutcome = .redirectMeansSuccess, format: LockoutResponseFormat = .automatic,
        _ handler: @Sendable (Credentials) async throws -> Response
    ) async throws -> Response {
        try await watchLogin(credentials, reading: { $0[keyPath: username] }, outcome: outcome, format: format, handler)
    }

    private func watchLogin<Credentials: Decodable & Sendable>(
        _: Credentials.Type, reading username: (Credentials) -> String?, outcome: LoginOutcome, format: LockoutResponseFormat,
        _ handler: @Sendable (Credentials) async throws -> Response
    ) async throws -> Response {
        var login = self
        return try await login.protectCredentials(Credentials.self, username: username, classify: outcome.classify, format: format, handler)
    }

    /// The request body decoded as `Credentials` with the app's content decoder for its media type, or `nil`
    /// when it cannot be (no body, another media type, a shape that does not decode).
    /// - Throws: `413 Payload Too Large` when a streamed body is over the routes' maximum body size.
    public func credentials<Credentials: Decodable>(_: Credentials.Type) async throws -> Credentials? {
        try await collectBody()
        guard prepareContentType() else { return nil }
        return try? request.content.decode(Credentials.self)
    }

    /// One string field of the request body (such as `password` or `next`), read with the app's content decoder
    /// for the request's media type — the same reading as `req.content.decode` — or `nil` when there is none.
    /// Defender first makes the `Content-Type` one every process reads alike (lower case), and removes one that
    /// names no single type (a list, two fields, a wildcard), so that `req.content.decode` then reads nothing either.
    ///
    /// The field is decoded through `req.content.decode` itself (not `content.get(at:)`, which Vapor routes through
    /// another decoder entry point that custom decoders, JSON5 on Linux and key strategies treat differently), so
    /// it is exactly the field a `Decodable` with that coding key reads.
    public func formField(_ name: String) -> String? {
        guard request.body.data != nil, prepareContentType() else { return nil }
        return BodyField.$name.withValue(name) { (try? request.content.decode(BodyField.self))?.value }
    }

    /// Performs a username reading (`UsernameReading`, the rule every integration shares): a path parameter, or
    /// a body field read with the app's content decoder.
    func read(_ reading: UsernameReading) async throws -> String? {
        switch reading {
        case .none:
            return nil
        case .pathParameter(let name):
            return request.parameters.get(name)
        case .bodyField(let field):
            try await collectBody()
            return formField(field)
        }
    }

    /// Collects a streamed body (middleware mode runs before the route collects it), so that Defender and the
    /// handler read the same bytes; a body that arrived whole is left alone.
    func collectBody() async throws {
        guard request.body.data == nil else { return }
        _ = try await request.body.collect(max: request.application.routes.defaultMaxBodySize.value).get()
    }
}
