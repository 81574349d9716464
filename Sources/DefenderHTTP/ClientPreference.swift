/// What a client asked for, read from header bytes: for choosing a response format (never for reading credentials:
/// those are decoded once, with the app's decoders).
package enum ClientPreference {
    /// Whether the client wants JSON: by `Accept` (whichever of JSON and HTML it names first), else by sending a
    /// JSON body — one `Content-Type` field naming one JSON type (a list names no single type, as
    /// `URLEncodedForm/mediaType(_:)` rules for reading the body). Byte scans, not a media-type parse: this runs
    /// for every refused request.
    package static func wantsJSON(accept: [String], contentType: [String]) -> Bool {
        let accept = accept.joined(separator: ",")
        switch (offset(of: "json", in: accept), offset(of: "text/html", in: accept)) {
        case (let json?, let html?): return json < html
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): return contentType.count == 1 && !URLEncodedForm.isList(contentType[0]) && isJSON(contentType[0])
        }
    }

    /// Whether a `Content-Type` value names JSON (`application/json`, `…+json`), without parsing it whole.
    package static func isJSON(_ value: String) -> Bool {
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

    /// Where `needle` (lower-case ASCII) first occurs in `text`, ignoring ASCII case.
    package static func offset(of needle: StaticString, in text: String) -> Int? {
        let pattern = UnsafeBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount)
        let bytes = Array(text.utf8)
        guard bytes.count >= pattern.count, !pattern.isEmpty else { return nil }
        for start in 0...(bytes.count - pattern.count) {
            var index = 0
            while index < pattern.count, bytes[start + index] | (bytes[start + index] >= 0x41 && bytes[start + index] <= 0x5A ? 0x20 : 0) == pattern[index] {
                index += 1
            }
            if index == pattern.count { return start }
        }
        return nil
    }
}
