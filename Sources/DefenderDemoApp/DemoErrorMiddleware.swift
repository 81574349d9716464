import DefenderDemoSupport
import DefenderHTTP
import DefenderVapor
import HTTPTypes
import Vapor

/// Answers every error as the demo contract does (`DemoPages.error(status:)`; Defender's own errors with their
/// answer), in place of Vapor's `{"error":true,"reason":…}`: both demos answer a missing route, an oversized body
/// or a failing handler alike.
struct DemoErrorMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch let error as DefenderError {
            return Response(error.answer)
        } catch let error as any AbortError {
            var answer = DemoPages.error(status: Int(error.status.code))
            if let retryAfter = error.headers.first(name: .retryAfter) { answer.fields[.retryAfter] = retryAfter }
            return Response(answer)
        } catch {
            request.logger.report(error: error)
            return Response(DemoPages.error(status: 500))
        }
    }
}
