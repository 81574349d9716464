import Vapor

/// A request that brings a session cookie the server does not know gets the expired cookie back and writes
/// nothing, as in the Hummingbird demo.
///
/// Vapor's `SessionsMiddleware` gives such a request a new, empty session, and on the way out *inserts* it into the
/// sessions table and sets its cookie — for any request, signed in or not, even one refused as locked. Anyone could
/// then grow the database with forged cookies, one row per request, without ever logging in. Registered inside the
/// sessions middleware: a session that is still new and empty when the handler is done is ended instead, so the
/// sessions middleware expires the cookie and stores nothing. A session the handler put data in (a login, the
/// admin page's CSRF token) is kept as before.
struct UnknownSessionMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response = try await next.respond(to: request)
        if request.hasSession, request.session.id == nil, request.session.data.snapshot.isEmpty {
            request.session.destroy()
        }
        return response
    }
}
