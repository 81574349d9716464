import Mustache

/// Escapes text for HTML element content and quoted attribute values.
///
/// By UTF-8 byte, not by `Character`: a `<` or a `"` glued into one grapheme cluster with a combining mark after
/// it (`"\u{301}`) or a prepended mark before it (`\u{600}<`) is not the `Character` `<`, yet a browser reads
/// the bare byte. (swift-mustache's own HTML escaping compares characters, so Defender's templates use this one:
/// ``DefenderHTMLContentType``.) No byte of a multi-byte UTF-8 sequence is ASCII, so nothing else can change.
package enum HTMLEscaping {
    /// `&`, `<`, `>`, `"` and `'` as character references; everything else as it is.
    package static func escape(_ text: String) -> String {
        let utf8 = text.utf8
        guard utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) else { return text }
        var result: [UInt8] = []
        result.reserveCapacity(utf8.count + 16)
        for byte in utf8 {
            switch byte {
            case 0x26: result += Array("&amp;".utf8)
            case 0x3C: result += Array("&lt;".utf8)
            case 0x3E: result += Array("&gt;".utf8)
            case 0x22: result += Array("&quot;".utf8)
            case 0x27: result += Array("&#39;".utf8)
            default: result.append(byte)
            }
        }
        return String(decoding: result, as: UTF8.self)
    }
}

/// The HTML escaping of every `{{value}}` in Defender's templates (``DefenderTemplates`` puts its pragma first in
/// each, the app's own included): ``HTMLEscaping``, by byte.
struct DefenderHTMLContentType: MustacheContentType {
    /// The pragma that selects it: `{{% CONTENT_TYPE: DefenderHTML}}`.
    static let pragma = "{{% CONTENT_TYPE: DefenderHTML}}"
    /// Registered once, before the first template is parsed.
    static let registered: Void = MustacheContentTypes.register(DefenderHTMLContentType(), named: "DefenderHTML")

    func escapeText(_ text: String) -> String { HTMLEscaping.escape(text) }
}
