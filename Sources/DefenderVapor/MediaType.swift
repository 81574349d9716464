import Foundation
import Vapor

/// Reads the username from the place ``DefenderConfiguration/usernameSource`` names.
enum UsernameReader {
    static func read(_ source: UsernameSource, field: String, from request: Request) -> String? {
        if let parameter = source.parameter { return request.parameters.get(parameter) }
        guard let body = request.body.data, body.readableBytes > 0 else { return nil }
        let isJSON = request.headers.first(name: .contentType).map(isJSONMediaType) ?? false
        if source == .jsonField || isJSON { return jsonField(field, in: body) }
        return FormFieldScanner.value(of: field, in: body)
    }

    /// Whether a `Content-Type` value names JSON (`application/json`, `…+json`), without parsing it whole.
    static func isJSONMediaType(_ value: String) -> Bool {
        let type = value.utf8.prefix { $0 != UInt8(ascii: ";") }
        var end = type.endIndex
        while end > type.startIndex, let last = type[..<end].last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") {
            end = type.index(before: end)
        }
        let trimmed = type[..<end]
        func hasSuffix(_ suffix: String) -> Bool {
            guard trimmed.count >= suffix.utf8.count else { return false }
            return zip(trimmed.suffix(suffix.utf8.count), suffix.utf8).allSatisfy { ($0 | 0x20) == $1 }
        }
        return hasSuffix("/json") || hasSuffix("+json")
    }

    /// A string field of a JSON object; `nil` for invalid JSON, another shape or a non-string value.
    static func jsonField(_ field: String, in body: ByteBuffer) -> String? {
        let data = Data(body.readableBytesView)
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return object[field] as? String
    }
}
