import DefenderCore
import Foundation
import HTTPTypes

/// A response as Defender decides it, before a framework turns it into its own type: one way to build each answer
/// for every integration.
package struct HTTPAnswer: Sendable {
    package var status: Int
    package var fields: HTTPFields
    package var body: [UInt8]

    package init(status: Int, fields: HTTPFields = HTTPFields(), body: [UInt8] = []) {
        self.status = status
        self.fields = fields
        self.body = body
    }

    /// `application/problem+json; charset=utf-8` (RFC 9457).
    package static let problemJSON = "application/problem+json; charset=utf-8"
    /// `text/html; charset=utf-8`.
    package static let html = "text/html; charset=utf-8"

    /// An RFC 9457 problem for `status` with `detail` for the person reading it.
    package static func problem(status: Int, title: String, detail: String, fields: HTTPFields = HTTPFields()) -> HTTPAnswer {
        var fields = fields
        fields[.contentType] = problemJSON
        let body = (try? encoder().encode(ProblemBody(title: title, status: status, detail: detail))) ?? Data()
        return HTTPAnswer(status: status, fields: fields, body: Array(body))
    }

    /// An RFC 9457 problem for `status`, titled with its reason phrase.
    package static func problem(status: Int, detail: String, fields: HTTPFields = HTTPFields()) -> HTTPAnswer {
        problem(status: status, title: reasonPhrase(status), detail: detail, fields: fields)
    }

    /// The reason phrase of `status` (`HTTPResponse.Status(code:)` leaves it empty).
    package static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 409: "Conflict"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        default: HTTPResponse.Status(code: status).reasonPhrase
        }
    }

    /// The one JSON encoder of every answer and command: keys sorted, so that a body is the same bytes in every
    /// process and every integration (Foundation's key order otherwise changes from run to run), `/` unescaped
    /// (`203.0.113.0/24` as an operator types it), dates in ISO 8601.
    package static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    /// `200` with `value` as JSON (`application/json; charset=utf-8`, dates in ISO 8601).
    package static func json(_ value: some Encodable) throws -> HTTPAnswer {
        let encoder = encoder()
        var fields = HTTPFields()
        fields[.contentType] = "application/json; charset=utf-8"
        return HTTPAnswer(status: 200, fields: fields, body: Array(try encoder.encode(value)))
    }

    /// A small HTML page; `title` and `paragraphs` are escaped here.
    package static func page(status: Int, title: String, paragraphs: [String], fields: HTTPFields = HTTPFields()) -> HTTPAnswer {
        var fields = fields
        fields[.contentType] = html
        let e = HTMLEscaping.escape
        let text = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(e(title))</title></head>
            <body><h1>\(e(title))</h1>\(paragraphs.map { "<p>\(e($0))</p>" }.joined())</body></html>

            """
        return HTTPAnswer(status: status, fields: fields, body: Array(text.utf8))
    }

    /// `401` with the `WWW-Authenticate: Basic` challenge of `realm` (quotes and backslashes escaped).
    package static func basicChallenge(realm: String, detail: String) -> HTTPAnswer {
        var fields = HTTPFields()
        let escaped = realm.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        fields[.wwwAuthenticate] = "Basic realm=\"\(escaped)\", charset=\"UTF-8\""
        return problem(status: 401, detail: detail, fields: fields)
    }

    /// `401` for a wrong username or password: problem+json for a JSON client, else a small page. Answered, not
    /// thrown, so that no framework logs a wrong password as an error.
    package static func failedLogin(json: Bool, detail: String) -> HTTPAnswer {
        var fields = HTTPFields()
        fields[.cacheControl] = "no-store"
        return json
            ? problem(status: 401, detail: detail, fields: fields)
            : page(status: 401, title: "Login failed", paragraphs: [detail], fields: fields)
    }

    /// `400` for a login whose credentials cannot be read: nobody can be checked from it.
    package static func unreadableCredentials(json: Bool) -> HTTPAnswer {
        let detail = "The login request could not be read: send the username and password in the form or JSON the site expects."
        var fields = HTTPFields()
        fields[.cacheControl] = "no-store"
        return json
            ? problem(status: 400, title: "Bad Request", detail: detail, fields: fields)
            : page(status: 400, title: "Bad request", paragraphs: [detail], fields: fields)
    }
}

/// RFC 9457 problem details: `{"type":"about:blank","title":…,"status":…,"detail":…}`.
package struct ProblemBody: Codable, Sendable {
    package var type = "about:blank"
    package var title: String
    package var status: Int
    package var detail: String

    package init(title: String, status: Int, detail: String) {
        self.title = title
        self.status = status
        self.detail = detail
    }
}
