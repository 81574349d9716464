import Foundation

/// `application/x-www-form-urlencoded`, as the WHATWG URL standard reads and writes it: the admin's query strings
/// and form bodies.
package enum URLEncodedForm {
    /// The name–value pairs of `text` in order (`+` is a space; a bad escape is kept as it is written).
    package static func parse(_ text: some StringProtocol) -> [(name: String, value: String)] {
        text.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    /// `pairs` written as a query or form body; spaces as `%20`, which every decoder reads the same way.
    package static func serialize(_ pairs: [(name: String, value: String)]) -> String {
        pairs.map { encode($0.name) + "=" + encode($0.value) }.joined(separator: "&")
    }

    /// `text` with each repeated plain name (no `[…]`) kept once, with its last value — what Vapor's decoder reads
    /// for a single-valued field — so that every integration reads `username=a&username=b` as `b`, and not one of
    /// them as an error.
    package static func lastValueWins(_ text: some StringProtocol) -> String {
        // The pairs are kept as they are written (only names are decoded, to compare them), so that the framework's
        // decoder still judges every escape and value itself.
        let pairs = text.split(separator: "&", omittingEmptySubsequences: true)
        let names = pairs.map { decode($0.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]) }
        var last: [String: Int] = [:]
        for (index, name) in names.enumerated() where !name.contains("[") { last[name] = index }
        guard last.count < names.count(where: { !$0.contains("[") }) else { return String(text) }
        return pairs.indices.filter { names[$0].contains("[") || last[names[$0]] == $0 }.map { String(pairs[$0]) }.joined(separator: "&")
    }

    /// The media type of a `Content-Type` value, lowercased, without its parameters; `nil` when it names no single
    /// type — none, a wildcard (`*/*`, `application/*`), a list (`a/b, c/d`: one field listing two, or two fields
    /// joined), a quoted string left open, a type with spaces in it (`application / json`), or a parameter named
    /// twice (`boundary=A; Boundary=B`) — so that such a body is read by no integration: each framework reads those
    /// its own way (the first of a list, the last, by the process's hash seed), and one reading must hold for all.
    package static func mediaType(_ contentType: String?) -> String? {
        guard let contentType, let parts = fieldParts(contentType) else { return nil }
        let type = parts[0].trimmingCharacters(in: .whitespaces).lowercased()
        let halves = type.split(separator: "/", omittingEmptySubsequences: false)
        guard halves.count == 2, halves.allSatisfy({ !$0.isEmpty && $0.allSatisfy(isTokenCharacter) && !$0.contains("*") }) else { return nil }
        var names = Set<String>()
        for parameter in parts.dropFirst() {
            let name = parameter.split(separator: "=", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            guard name.isEmpty || names.insert(name).inserted else { return nil }
        }
        return type
    }

    /// Whether a field value holds a comma outside a quoted string (a list of values, where one is expected) or
    /// leaves a quoted string open. A scan without allocation: the lockout's format asks it on refused requests.
    package static func isList(_ value: String) -> Bool { !scanParameters(value) { _ in } }

    /// A field value split at the semicolons outside quoted strings; `nil` for a list (a comma outside a quoted
    /// string) or a quoted string left open, where no single value can be told from the next.
    static func fieldParts(_ value: String) -> [Substring]? {
        var parts: [Substring] = []
        var start = value.startIndex
        guard scanParameters(value, separator: { index in
            parts.append(value[start..<index])
            start = value.index(after: index)
        }) else { return nil }
        parts.append(value[start...])
        return parts
    }

    /// Walks a field value once, calling `separator` at each semicolon outside a quoted string; `false` for a comma
    /// outside a quoted string or a quoted string left open.
    static func scanParameters(_ value: String, separator: (String.Index) -> Void) -> Bool {
        var quoted = false
        var escaped = false
        for index in value.indices {
            let character = value[index]
            if escaped { escaped = false; continue }
            switch character {
            case "\\" where quoted: escaped = true
            case "\"": quoted.toggle()
            case "," where !quoted: return false
            case ";" where !quoted: separator(index)
            default: break
            }
        }
        return !quoted
    }

    /// RFC 9110's `tchar`.
    package static func isTokenCharacter(_ character: Character) -> Bool {
        guard let ascii = character.asciiValue else { return false }
        return (ascii >= 0x30 && ascii <= 0x39) || (ascii >= 0x41 && ascii <= 0x5A) || (ascii >= 0x61 && ascii <= 0x7A)
            || "!#$%&'*+-.^_`|~".utf8.contains(ascii)
    }

    static func decode(_ text: some StringProtocol) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), utf8.count >= 2, let high = hex(utf8[utf8.startIndex]),
                let low = hex(utf8[utf8.startIndex + 1])
            {
                bytes.append(high << 4 | low)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: ":"), UInt8(ascii: "/"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xF, radix: 16, uppercase: true)
            }
        }
        return out
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
