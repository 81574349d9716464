/// Escapes text for HTML element content and quoted attribute values.
package enum HTMLEscaping {
    /// `&`, `<`, `>`, `"` and `'` as character references; everything else as it is.
    package static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }
}
