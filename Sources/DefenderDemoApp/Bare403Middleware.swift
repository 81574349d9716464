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
