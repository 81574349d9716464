import Foundation
import Vapor

extension HTTPMediaType {
    /// `application/problem+json; charset=utf-8` (RFC 9457).
    public static let problemJSON = HTTPMediaType(type: "application", subType: "problem+json", parameters: ["charset": "utf-8"])
}

/// An RFC 9457 problem: `{"type":"about:blank","title":…,"status":…,"detail":…}`.
public struct ProblemDetails: Codable, Sendable {
    public var type = "about:blank"
    public var title: String
    public var status: Int
    public var detail: String

    /// The response for `status` with `detail` for the person reading it.
    public static func response(_ status: HTTPResponseStatus, _ detail: String) -> Response {
        var headers = HTTPHeaders()
        headers.contentType = .problemJSON
        let problem = ProblemDetails(title: status.reasonPhrase, status: Int(status.code), detail: detail)
        return Response(status: status, headers: headers, body: .init(data: (try? JSONEncoder().encode(problem)) ?? Data()))
    }
}
