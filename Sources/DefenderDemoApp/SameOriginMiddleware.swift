import DefenderVapor
import Vapor

/// Refuses form POSTs that a browser sent from another site (login CSRF: a page elsewhere logging the victim into
/// the attacker's account, or logging her out). The login and reset forms have no session to hold a CSRF token
/// before login, so this uses the headers browsers attach to every such request (OWASP's "verifying origin with
/// standard headers"): `Sec-Fetch-Site: cross-site`, or an `Origin` whose host is not the request's `Host`, is a
/// `403`; a request with neither (curl, scripts, old browsers) is let through.
struct SameOriginMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard request.method == .POST, Self.isCrossSite(request.headers) else { return try await next.respond(to: request) }
        return DemoApp.problem(.forbidden, "Cross-site form posts are refused: submit the form from this site.")
    }

    static func isCrossSite(_ headers: HTTPHeaders) -> Bool {
        if let site = headers.first(name: "Sec-Fetch-Site")?.lowercased() { return site == "cross-site" }
        guard let origin = headers.first(name: .origin) else { return false }
        // `Origin: null` (sandboxed frames, some redirects) is never this site.
        guard let host = URI(string: origin).host, let requestHost = headers.first(name: .host) else { return true }
        let port = URI(string: origin).port.map { ":\($0)" } ?? ""
        return (host + port).lowercased() != requestHost.lowercased() && host.lowercased() != requestHost.lowercased()
    }
}
