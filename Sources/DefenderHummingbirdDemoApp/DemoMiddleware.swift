import DefenderDemoSupport
import DefenderHummingbird
import Hummingbird
import HummingbirdAuth
import Foundation
import FluentKit
import HTTPTypes

/// Refuses form POSTs that a browser sent from another site (`DemoPages.isCrossSite`).
struct SameOriginMiddleware: RouterMiddleware {
    func handle(_ request: Request, context: DemoContext, next: (Request, DemoContext) async throws -> Response) async throws -> Response {
        guard request.method == .post,
            DemoPages.isCrossSite(
                secFetchSite: request.headers[values: HTTPField.Name("Sec-Fetch-Site")!], origin: request.headers[values: .origin],
                host: request.head.authority)
        else { return try await next(request, context) }
        return Response(DemoPages.crossSiteRefused)
    }
}

/// Marks every cookie a response sets `Secure` when the client came over TLS per a trusted proxy's
/// `X-Forwarded-Proto`/`Forwarded`, so a session id issued over HTTPS is never sent back over plain HTTP.
struct SecureCookiesMiddleware: RouterMiddleware {
    let defender: HummingbirdDefender

    func handle(_ request: Request, context: DemoContext, next: (Request, DemoContext) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        let cookies = response.headers[values: .setCookie]
        guard !cookies.isEmpty, defender.isSecure(request, context: context) else { return response }
        response.headers[values: .setCookie] = cookies.map { cookie in
            cookie.lowercased().split(separator: ";").contains { $0.trimmingCharacters(in: .whitespaces) == "secure" } ? cookie : cookie + "; Secure"
        }
        return response
    }
}

/// Puts the session's user in `context.identity`.
struct SessionUserMiddleware: RouterMiddleware {
    let demo: HummingbirdDemo

    func handle(_ request: Request, context: DemoContext, next: (Request, DemoContext) async throws -> Response) async throws -> Response {
        var context = context
        if let id = context.sessions.session?.userID { context.identity = try await User.find(id, on: demo.database) }
        return try await next(request, context)
    }
}

/// Sends the session cookie by the demo contract's one rule (the Vapor demo's): every answer to a request with a
/// live session carries its cookie again, a new session its new id, and a request whose cookie names no live
/// session (logged out, expired, invented) gets the cookie expired. Placed around the sessions middleware, whose
/// own `Set-Cookie` it replaces.
struct SessionCookieMiddleware: RouterMiddleware {
    let storage: SessionStorage<DemoSession>

    func handle(_ request: Request, context: DemoContext, next: (Request, DemoContext) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        let prefix = DemoPages.sessionCookieName + "="
        var cookies = response.headers[values: .setCookie]
        // A session the handler created: the sessions middleware's cookie names its new id.
        let created = cookies.first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count).prefix { $0 != ";" }) }
        cookies.removeAll { $0.hasPrefix(prefix) }
        let sent = storage.getId(request: request)
        if context.sessions.session != nil, let id = created.flatMap({ $0.isEmpty ? nil : $0 }) ?? sent {
            cookies.append(DemoPages.sessionCookie(id))
        } else if sent != nil {
            cookies.append(DemoPages.expiredSessionCookie)
        }
        response.headers[values: .setCookie] = cookies
        return response
    }
}

/// Answers every error as the demo contract does (`DemoPages.error(status:)`; Defender's own errors with their
/// answer), so that both demos answer a missing route, an oversized body or a failing handler alike.
struct DemoErrorMiddleware: RouterMiddleware {
    func handle(_ request: Request, context: DemoContext, next: (Request, DemoContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as DefenderError {
            return Response(error.answer)
        } catch let error as any HTTPResponseError {
            var answer = DemoPages.error(status: error.status.code)
            if let retryAfter = (error as? HTTPError)?.headers[.retryAfter] { answer.fields[.retryAfter] = retryAfter }
            return Response(answer)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            return Response(DemoPages.error(status: 500))
        }
    }
}

/// `DEMO_PROTECTION=bare403`: reads the username (one decode of the body, as Defender does) and answers
/// `DemoPages.bare403`, without any store, hash or database: the load test's floor for the lockout path.
struct Bare403Middleware: RouterMiddleware {
    func handle(_ request: Request, context: DemoContext, next: (Request, DemoContext) async throws -> Response) async throws -> Response {
        var request = request
        _ = try await request.collectBody(upTo: context.maxUploadSize)
        let username = (try? await context.requestDecoder.decode(LoginForm.self, from: request, context: context))?.username
        return Response(DemoPages.bare403(username: username))
    }
}

/// `DEMO_PROTECTION=floor`: what any protection costs Hummingbird before its own work — a middleware that resolves
/// the client address and decodes the credentials once more — then the plain handler: the load test's floor for
/// the success path, which the protected login is compared with.
struct FloorMiddleware: RouterMiddleware {
    let defender: HummingbirdDefender

    func handle(_ request: Request, context: DemoContext, next: (Request, DemoContext) async throws -> Response) async throws -> Response {
        var request = request
        var context = context
        _ = try defender.client(request, context: &context)
        _ = try await request.collectBody(upTo: context.maxUploadSize)
        _ = try? await context.requestDecoder.decode(LoginForm.self, from: request, context: context)
        return try await next(request, context)
    }
}
