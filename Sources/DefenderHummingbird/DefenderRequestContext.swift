import DefenderHTTP
import Foundation
import Hummingbird
import MultipartKit
import NIOCore

/// A request context Defender can protect: it knows the peer's address (as Hummingbird's
/// `RemoteAddressRequestContext` gives it) and carries what Defender read from the request, so that the handler
/// checks the password of exactly the username Defender counted.
///
/// ```swift
/// struct AppContext: DefenderRequestContext {
///     var coreContext: CoreRequestContextStorage
///     var defender = DefenderRequestValues()
///     let remoteAddress: SocketAddress?
///     init(source: ApplicationRequestContextSource) {
///         coreContext = .init(source: source)
///         remoteAddress = source.channel.remoteAddress
///     }
///     var requestDecoder: DefenderRequestDecoder { DefenderRequestDecoder() }
/// }
/// ```
public protocol DefenderRequestContext: RemoteAddressRequestContext {
    /// What Defender read from this request; set by its middleware and route wrappers.
    var defender: DefenderRequestValues { get set }
}

/// What Defender read from one request.
public struct DefenderRequestValues: Sendable {
    /// The username Defender counted for this request (`nil`: none, only the IP is counted): the one whose password
    /// the handler must check.
    public internal(set) var username: String?
    /// Whether the username was read (`username` may be `nil` even then).
    var usernameRead = false
    /// The client, resolved once per request.
    var client: ClientAddress?

    /// Nothing read yet.
    public init() {}
}

/// A ready request context for Defender: the peer's address from the connection, JSON and URL-encoded form bodies
/// (`DefenderRequestDecoder`). Apps with authentication or sessions write their own, conforming to
/// `DefenderRequestContext` as well.
public struct BasicDefenderRequestContext: DefenderRequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// What Defender read.
    public var defender = DefenderRequestValues()
    /// The peer (the proxy, behind one).
    public let remoteAddress: SocketAddress?

    /// The context of one request on `source`'s connection.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// Decodes JSON and URL-encoded forms by the request's media type.
    public var requestDecoder: DefenderRequestDecoder { DefenderRequestDecoder() }
}

/// Decodes a request body by its media type: JSON (`application/json`, `…+json`) with Hummingbird's
/// `JSONDecoder`, URL-encoded forms with its `URLEncodedFormDecoder` (a repeated field read as its last value, as
/// Vapor reads it), and `multipart/form-data` with MultipartKit's decoder (as Vapor's content decoding does); any
/// other body, and no body, is refused (`415`, `400`). The decoder a context names is the one reading of the request both Defender and
/// the handler use.
public struct DefenderRequestDecoder: RequestDecoder {
    /// The decoder.
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        let contentType = request.headers[.contentType]
        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        // No body, no fields: not an empty form whose every field is absent (as Vapor reads it too).
        guard body.readableBytes > 0 else { throw HTTPError(.badRequest, message: "The request has no body.") }
        switch URLEncodedForm.mediaType(contentType) {
        case "application/x-www-form-urlencoded"?:
            return try URLEncodedFormDecoder().decode(type, from: URLEncodedForm.lastValueWins(String(buffer: body)))
        case "multipart/form-data"?:
            guard let boundary = Self.boundary(contentType) else {
                throw HTTPError(.badRequest, message: "The multipart body has no boundary.")
            }
            return try FormDataDecoder().decode(type, from: body, boundary: boundary)
        case let media? where ClientPreference.isJSON(media):
            return try await JSONDecoder().decode(T.self, from: request, context: context)
        default:
            throw HTTPError(.unsupportedMediaType, message: "Send application/json or application/x-www-form-urlencoded.")
        }
    }

    /// The `boundary` parameter of a `multipart/form-data` content type.
    static func boundary(_ contentType: String?) -> String? {
        for parameter in (contentType ?? "").split(separator: ";").dropFirst() {
            let parts = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, parts[0].lowercased() == "boundary" else { continue }
            let value = parts[1].hasPrefix("\"") && parts[1].hasSuffix("\"") && parts[1].count >= 2 ? String(parts[1].dropFirst().dropLast()) : parts[1]
            return value.isEmpty ? nil : value
        }
        return nil
    }
}
