import DefenderVapor
import Vapor

/// Marks every cookie a response sets `Secure` when the client came over TLS — directly, or per a trusted proxy's
/// `X-Forwarded-Proto`/`Forwarded` (``DefenderRequest/isSecure``) — so a session id issued over HTTPS is never sent
/// back over plain HTTP. Registered in front of the sessions middleware, so that it sees the session cookie.
struct SecureCookiesMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response = try await next.respond(to: request)
        guard !response.cookies.all.isEmpty, request.defender.isSecure else { return response }
        for (name, var cookie) in response.cookies.all where !cookie.isSecure {
            cookie.isSecure = true
            response.cookies[name] = cookie
        }
        return response
    }
}
