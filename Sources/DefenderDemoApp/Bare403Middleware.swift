import DefenderDemoSupport
import DefenderVapor
import Vapor

/// `DEMO_PROTECTION=bare403`: reads the username (one decode of the body, as Defender does) and answers
/// `DemoPages.bare403`, without any store, hash or database: the load test's floor for the lockout path.
struct Bare403Middleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        // The username read as Defender reads it: one decode with Vapor's decoder.
        Response(DemoPages.bare403(username: try await request.defender.credentials(LoginForm.self)?.username))
    }
}

/// `DEMO_PROTECTION=floor`: what any protection costs Vapor before its own work — an async middleware that resolves
/// the client address and decodes the credentials once more — then the plain handler: the load test's floor for
/// the success path, which the protected login is compared with.
struct FloorMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        _ = try request.defender.client()
        _ = try await request.defender.credentials(LoginForm.self)
        return try await next.respond(to: request)
    }
}
