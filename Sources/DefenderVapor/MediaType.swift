/// Media-type checks on header bytes, for choosing a response format (never for reading credentials: those are
/// decoded once, with the app's content decoders; see ``DefenderRequest/credentials(_:)``).
enum MediaType {
    /// Whether a `Content-Type` value names JSON (`application/json`, `…+json`), without parsing it whole.
    static func isJSON(_ value: String) -> Bool {
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
}
