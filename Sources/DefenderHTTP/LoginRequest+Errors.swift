import DefenderCore
import HTTPTypes
import Logging

/// An error the app's own code threw inside a protected login — its handler, its password verifier, the rest of its
/// middleware chain — carried past Defender's answer to its own errors and thrown on to the app as it was thrown
/// (a `DefenderError` the app raised itself included), for the app's error middleware and error tracking.
package struct AppCodeError: Error {
    package let error: any Error

    /// The app's error inside `error`, or `error` itself.
    package static func unwrapped(_ error: any Error) -> any Error {
        (error as? AppCodeError)?.error ?? error
    }
}

/// Runs the app's code inside a protected login, marking what it throws as the app's (`AppCodeError`).
package func appCode<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch {
        throw AppCodeError(error: error)
    }
}

extension LoginRequest {
    /// Runs one protected entry point (`body`, Defender's steps and the app's code inside them): a `DefenderError` of
    /// Defender's own is answered (`answer(_:format:)`, with `request`, the request as it entered); what the app's
    /// code threw (`AppCodeError`) is thrown on as the app threw it.
    package static func answeringErrors(
        of request: Self, format: LockoutResponseFormat, _ body: () async throws -> Response
    ) async throws -> Response {
        do {
            return try await body()
        } catch let error as AppCodeError {
            throw error.error
        } catch let error as DefenderError {
            return request.answer(error, format: format)
        }
    }

    /// A `DefenderError` of Defender's own steps (an admission that waited too long, a store refused under the
    /// `closed` policy, a forwarding header with no address in it) answered as every integration answers it — its
    /// status and `Retry-After`, as problem+json for a JSON client and a small page for a form — rather than in the
    /// framework's error shape, and logged at its level (`DefenderError/answerLogLevel`: per-request errors at
    /// `debug`, what someone must fix at `error`).
    package func answer(_ error: DefenderError, format: LockoutResponseFormat) -> Response {
        logger.log(level: error.answerLogLevel, "defender answered \(error.httpStatus): \(error.message)", metadata: ["defender.code": "\(error.code)"])
        return response(error.answer(json: isJSON(format)))
    }
}
