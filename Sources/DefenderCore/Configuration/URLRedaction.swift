/// Hides the secrets of a URL written in a setting, for messages about it — also about one that does not parse.
///
/// A URL's parts are ambiguous when a password holds an unencoded `?`, `/`, `&` or `@`, so both readings are hidden,
/// and every run of hidden text is shown as one `***`: everything between `://` and the last `@` (the credentials
/// as a parser that looks for the last `@` reads them; a plain user name before a `:` stays), and in the query every
/// option's value but those of the options known to hold no secret — after an option that holds one (`…pass…=`),
/// everything up to the next known option, since an `&` in the password would have split it. It hides more than
/// a parser would when a URL is odd, never less.
package enum URLRedaction {
    /// Options whose values are no secret (shown, to say what is wrong).
    static let plainOptions: Set<String> = [
        "db", "master", "username", "sentinel_username", "ssl_cert_reqs", "ssl_server_name", "ssl_ca_certs", "connect_timeout",
        "command_timeout", "max_connections", "tls",
    ]

    package static func redact(_ url: String) -> String {
        let text = Array(url.utf8)
        var hidden = [Bool](repeating: false, count: text.count)
        let start = text.firstRange(of: Array("://".utf8))?.upperBound ?? 0
        if let at = text[start...].lastIndex(of: UInt8(ascii: "@")) {
            let user = text[start..<at].prefix { isPlain($0) }
            let keepsUser = start + user.count < at && text[start + user.count] == UInt8(ascii: ":")
            for index in (keepsUser ? start + user.count + 1 : start)..<at { hidden[index] = true }
        }
        if let mark = text[start...].firstIndex(of: UInt8(ascii: "?")) {
            hideOptions(text, from: mark + 1, in: &hidden)
        }
        var out: [UInt8] = []
        for (index, byte) in text.enumerated() {
            if !hidden[index] {
                out.append(byte)
            } else if index == 0 || !hidden[index - 1] {
                out.append(contentsOf: Array("***".utf8))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Marks the query's secret values hidden (see the type's description).
    private static func hideOptions(_ text: [UInt8], from first: Int, in hidden: inout [Bool]) {
        var hiding = false
        var segmentStart = first
        while segmentStart <= text.count {
            let end = text[segmentStart...].firstIndex(of: UInt8(ascii: "&")) ?? text.count
            let segment = text[segmentStart..<end]
            let equals = segment.firstIndex(of: UInt8(ascii: "="))
            let name = String(decoding: segment[..<(equals ?? end)], as: UTF8.self).lowercased()
            if plainOptions.contains(name), equals != nil {
                hiding = false
            } else if hiding || equals == nil {
                for index in segmentStart..<end { hidden[index] = true }
            } else if let equals {
                for index in (equals + 1)..<end { hidden[index] = true }
                if name.contains("pass") { hiding = true }
                // A name that is no plain word may be a piece of a password split at an `&`.
                if !name.utf8.allSatisfy(isPlain) { for index in segmentStart..<equals { hidden[index] = true } }
            }
            segmentStart = end + 1
        }
    }

    private static func isPlain(_ byte: UInt8) -> Bool {
        (0x61...0x7A).contains(byte) || (0x41...0x5A).contains(byte) || (0x30...0x39).contains(byte) || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
    }
}
