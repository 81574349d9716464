import DefenderDemoSupport
import DefenderVapor
import Vapor

/// Refuses form POSTs that a browser sent from another site (`DemoPages.isCrossSite`).
struct SameOriginMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard request.method == .POST,
            DemoPages.isCrossSite(
                secFetchSite: request.headers["Sec-Fetch-Site"], origin: request.headers[.origin],
                host: request.headers.first(name: .host))
        else { return try await next.respond(to: request) }
        return Response(DemoPages.crossSiteRefused)
    }
}
