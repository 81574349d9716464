import Vapor

/// Refuses a body at or over `routes.defaultMaxBodySize` with `413`, every time.
///
/// Vapor measures a body against that limit only while it streams it in: a body whose first chunk is already as
/// long as its `Content-Length` (it arrived in one read) is handed to the route whole and never measured. Whether a
/// 20 KB login was refused or read — and counted — thus depended on the network's timing (the demos' differential
/// test saw both under load). This measures the body Vapor handed over whole, with Vapor's own rule (`>=`), so the
/// Vapor demo refuses what the Hummingbird demo refuses.
struct BodyLimitMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if let body = request.body.data, body.readableBytes >= request.application.routes.defaultMaxBodySize.value {
            throw Abort(.payloadTooLarge)
        }
        return try await next.respond(to: request)
    }
}
