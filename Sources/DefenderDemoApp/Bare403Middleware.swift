import DefenderVapor
import Vapor

/// `DEMO_PROTECTION=bare403`: reads the username (one decode of the body, as Defender does) and answers `403` with the
/// same headers and page as Defender's lockout, without any store, hash or database: what answering a blocked
/// request costs at the least, so that the load test measures only the cost of deciding.
struct Bare403Middleware: AsyncMiddleware {
    static let page = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Locked out</title></head>
        <body><h1>Locked out</h1><p>Account locked: too many login attempts.  Please try again later.</p><p>You can try again in 300 seconds.</p></body></html>

        """

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        // The username read as Defender reads it: one decode with Vapor's decoder.
        let username = try await request.defender.credentials(LoginForm.self)?.username
        var headers = HTTPHeaders()
        headers.add(name: .cacheControl, value: "no-store")
        headers.add(name: .retryAfter, value: username == nil ? "300" : "299")
        headers.contentType = .html
        return Response(status: .forbidden, headers: headers, body: .init(string: Self.page))
    }
}
