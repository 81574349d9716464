import Foundation
import Vapor

/// Reads the username from the place ``DefenderConfiguration/usernameSource`` names.
enum UsernameReader {
    static func read(_ source: UsernameSource, field: String, from request: Request) -> String? {
        if let parameter = source.parameter { return request.parameters.get(parameter) }
        guard let body = request.body.data, body.readableBytes > 0 else { return nil }
        let isJSON = request.headers.contentType.map { $0.subType == "json" || $0.subType.hasSuffix("+json") } ?? false
        if source == .jsonField || isJSON { return jsonField(field, in: body) }
        return FormFieldScanner.value(of: field, in: body)
    }

    /// A string field of a JSON object; `nil` for invalid JSON, another shape or a non-string value.
    static func jsonField(_ field: String, in body: ByteBuffer) -> String? {
        let data = Data(body.readableBytesView)
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return object[field] as? String
    }
}
