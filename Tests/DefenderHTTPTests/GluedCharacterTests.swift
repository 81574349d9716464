import DefenderCore
import DefenderHTTP
import DefenderTesting
import Foundation
import Mustache
import Testing

/// A Swift `Character` is a grapheme cluster: a `<`, `"` or `:` followed by a combining mark (`"\u{301}`), or
/// preceded by a prepended mark (`\u{600}<`), is not the `Character` `<`, though every HTML parser, header and
/// database reads the bare byte. Each reading of client text below is checked on thousands of seeded random strings
/// built to glue such bytes (SplitMix64, fixed seed): escaping, templates (Defender's and an app's), Basic
/// credentials and the cut of stored fields.
@Suite struct GluedCharacterTests {
    /// Fragments that glue to their neighbours, the bytes that matter, and ordinary text.
    static let fragments = [
        "<", ">", "\"", "'", "&", ":", "/", "\\", " ", "a", "Z", "é", "e\u{301}", "\u{301}", "\u{FE0F}", "\u{20DD}", "\u{600}",
        "\u{605}", "\u{110BD}", "\u{200D}", "ａ", "👩‍💻", "\u{0}", "\n", "&amp;", "<script>", "\"\u{301}", "\u{600}<", "\u{600}>",
    ]

    static func strings(seed: UInt64, count: Int, length: ClosedRange<Int> = 0...12) -> [String] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            (0..<Int.random(in: length, using: &random)).map { _ in fragments.randomElement(using: &random)! }.joined()
        }
    }

    /// The five references read back, by bytes (Foundation's `replacingOccurrences` would miss `&quot;` glued to
    /// a mark after it: this class again); `nil` for an `&` that starts none of them.
    static func unescape(_ bytes: [UInt8]) -> [UInt8]? {
        let references: [(String, UInt8)] = [("&lt;", 0x3C), ("&gt;", 0x3E), ("&quot;", 0x22), ("&#39;", 0x27), ("&amp;", 0x26)]
        var result: [UInt8] = []
        var index = 0
        while index < bytes.count {
            guard bytes[index] == 0x26 else {
                result.append(bytes[index])
                index += 1
                continue
            }
            guard let (entity, raw) = references.first(where: { bytes[index...].starts(with: Array($0.0.utf8)) }) else { return nil }
            result.append(raw)
            index += entity.utf8.count
        }
        return result
    }

    static func count(_ byte: Character, in text: String) -> Int { text.utf8.filter { $0 == byte.asciiValue! }.count }

    /// No `<`, `>`, `"` or `'` byte survives escaping, every `&` starts a reference, and reading the references back
    /// gives the text.
    @Test func escapingLeavesNoMarkupByte() {
        for text in Self.strings(seed: 0xE5CA9E, count: 5_000) {
            let escaped = HTMLEscaping.escape(text)
            #expect(!escaped.utf8.contains { $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }, "\(text.debugDescription)")
            #expect(Self.unescape(Array(escaped.utf8)) == Array(text.utf8), "\(text.debugDescription)")
        }
    }

    /// Rendered into Defender's unlock page, and into an app's own lockout template, a value adds no `<` or `"`
    /// byte to what the same page has with a harmless value: nothing a client sent becomes markup. (swift-mustache's
    /// own escaping lets `\u{600}<` through.)
    @Test func templatesEscapeByByte() throws {
        let templates = try DefenderTemplates(lockout: "<p title=\"{{message}}\">{{message}}</p>")
        func unlock(_ username: String) -> String {
            templates.unlock.render(["title": "t", "username": username, "loginPath": "/login", "expires": "", "confirm": true] as [String: Any])
        }
        func lockout(_ message: String) -> String { templates.lockout.render(["message": message] as [String: Any]) }
        let (unlockBase, lockoutBase) = (unlock("x"), lockout("x"))
        for text in Self.strings(seed: 0x7E3A1A7E, count: 2_000) {
            for (page, base) in [(unlock(text), unlockBase), (lockout(text), lockoutBase)] {
                #expect(Self.count("<", in: page) == Self.count("<", in: base) && Self.count("\"", in: page) == Self.count("\"", in: base),
                    "\(text.debugDescription)")
            }
        }
        #expect(!lockout("\u{600}<img src=x onerror=alert(1)\u{600}>").contains("<img"))
    }

    /// Basic credentials split at the first colon byte: a password that starts with a combining mark, or a
    /// username that ends with a prepended mark, is read as sent (it was one "username" with no colon).
    @Test func basicCredentialsSplitAtTheColonByte() {
        // Colons taken out by byte (by `Character`, a glued one would stay: this class of mistake again).
        let names = Self.strings(seed: 0xBA51C, count: 3_000, length: 1...8).map { String(decoding: $0.utf8.filter { $0 != UInt8(ascii: ":") }, as: UTF8.self) }
        let passwords = Self.strings(seed: 0x9A55, count: 3_000)
        for (username, password) in zip(names, passwords) where !username.isEmpty {
            let header = "Basic " + Data((username + ":" + password).utf8).base64EncodedString()
            #expect(BasicCredentials.parse([header]) == .credentials(username: username, password: password), "\(username.debugDescription)")
        }
    }

    /// A stored field is cut to at most its bytes, on a scalar, and as long as fits: one grapheme cluster of
    /// thousands of marks no longer passes as "one character".
    @Test func storedFieldsAreCutByBytes() {
        for text in Self.strings(seed: 0xC07, count: 3_000, length: 0...400) + ["a" + String(repeating: "\u{301}", count: 7_000)] {
            for limit in [0, 1, 2, 3, 255] {
                let cut = text.truncated(toUTF8Bytes: limit)
                #expect(cut.utf8.count <= limit && text.unicodeScalars.starts(with: cut.unicodeScalars))
                let next = text.unicodeScalars.dropFirst(cut.unicodeScalars.count).first
                #expect(next.map { cut.utf8.count + String($0).utf8.count > limit } ?? true, "not the longest prefix")
            }
        }
        let context = AttemptContext(userAgent: "a" + String(repeating: "\u{301}", count: 7_000), httpAccept: "", pathInfo: "")
        #expect(context.userAgent.utf8.count <= 255)
    }

    /// Every spelling an app may take for one account shares one counter: canonically equivalent forms, fullwidth
    /// forms (NFKC), case.
    @Test func usernameSpellingsShareOneKey() {
        #expect(DefenderKey.username("jose\u{301}") == DefenderKey.username("José"))
        #expect(DefenderKey.username("ａｌｉｃｅ") == DefenderKey.username("alice"))
        #expect(DefenderKey.username("\u{212B}ngstr\u{F6}m") == DefenderKey.username("A\u{30A}ngstro\u{308}m"))
        for text in Self.strings(seed: 0x4E4B, count: 2_000) {
            let key = DefenderKey.username(text)
            #expect(key == DefenderKey.username(text.decomposedStringWithCanonicalMapping), "\(text.debugDescription)")
            #expect(key.map { DefenderKey.username($0.value) == $0 } ?? true, "normalising twice changed \(text.debugDescription)")
        }
    }
}
