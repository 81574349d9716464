import DefenderHTTP
import Foundation
import Vapor

extension HTTPMediaType {
    /// `application/problem+json; charset=utf-8` (RFC 9457).
    public static let problemJSON = HTTPMediaType(type: "application", subType: "problem+json", parameters: ["charset": "utf-8"])
}

/// RFC 9457 problem responses: `{"type":"about:blank","title":…,"status":…,"detail":…}`.
public enum ProblemDetails {
    /// The response for `status` with `detail` for the person reading it.
    public static func response(_ status: HTTPResponseStatus, _ detail: String) -> Response {
        Response(HTTPAnswer.problem(status: Int(status.code), title: status.reasonPhrase, detail: detail))
    }
}
