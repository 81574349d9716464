import Foundation

/// Generates login requests of every shape an attacker might choose, for the one-reading differential tests.
public enum BodyGenerator {
    /// The usernames a generated request names.
    public static let usernames = [
        "alice", "Alice", " alice ", "victim", "bob", "", "ａｌｉｃｅ", "a\u{0}b", "ü", "e\u{301}", "a+b", "a&b=c", "%61lice",
        String(repeating: "x", count: 300), "\"quoted\"", "a\\b", "日本", "🙂",
    ]
    /// The `Content-Type` spellings a generated request carries (`nil`: none).
    public static let contentTypes: [String?] = [
        "application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "application/vnd.api+json",
        "application/problem+json", "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8",
        "Application/X-WWW-Form-Urlencoded", "multipart/form-data; boundary=XyZ", "multipart/form-data; boundary=\"XyZ\"",
        "multipart/form-data", "text/plain", "text/html", "application/jsonx", "application/json ; charset=utf-8",
        " application/json", "application/json;", "application/octet-stream", "", nil,
        // No single type: a list, a wildcard, a quote left open, a parameter twice, spaces inside the type.
        "application/x-www-form-urlencoded, application/json", "application/json, application/x-www-form-urlencoded", "*/*",
        "application/*", "application/x-www-form-urlencoded; charset=\"utf-8", "multipart/form-data; Boundary=XyZ",
        "multipart/form-data; boundary=XyZ; BOUNDARY=Other", "application / json",
    ]
    static let fieldNames = [
        "username", "username", "username", "Username", "user%6Eame", "%75sername", "username[]", "username[0]",
        "username[a]", "user+name", "user name", "username ", "password",
    ]
    static let jsonKeys = ["username", "username", "username", "Username", "user\\u006eame", "\\u0075sername", "username ", "password"]

    /// A content type and a body, the body's shape chosen independently of the type half of the time.
    public static func request(using random: inout SplitMix64) -> (String?, [UInt8]) {
        let type = contentTypes.randomElement(using: &random)!
        let shape = Int.random(in: 0..<3, using: &random)
        let body: [UInt8]
        switch Bool.random(using: &random) ? shape : kind(of: type) {
        case 0: body = json(using: &random)
        case 1: body = form(using: &random)
        default: body = multipart(using: &random)
        }
        return (type, body)
    }

    static func kind(of type: String?) -> Int {
        guard let type = type?.lowercased() else { return 1 }
        if type.contains("json") { return 0 }
        if type.contains("multipart") { return 2 }
        return 1
    }

    static func jsonString(_ text: String, using random: inout SplitMix64) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{0}"..."\u{1F}": out += String(format: "\\u%04x", scalar.value)
            default:
                // Escapes spell the same name another way.
                if scalar.isASCII, Int.random(in: 0..<8, using: &random) == 0 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    static func jsonValue(using random: inout SplitMix64) -> String {
        switch Int.random(in: 0..<10, using: &random) {
        case 0: return "null"
        case 1: return String(Int.random(in: -5...99999, using: &random))
        case 2: return "true"
        case 3: return "{\"username\": \(jsonString(usernames.randomElement(using: &random)!, using: &random))}"
        case 4: return "[\(jsonString(usernames.randomElement(using: &random)!, using: &random))]"
        case 5: return "1.5e3"
        default: return jsonString(usernames.randomElement(using: &random)!, using: &random)
        }
    }

    static func json(using random: inout SplitMix64) -> [UInt8] {
        var members: [String] = []
        for _ in 0..<Int.random(in: 0...4, using: &random) {
            members.append("\"\(jsonKeys.randomElement(using: &random)!)\": \(jsonValue(using: &random))")
        }
        if Int.random(in: 0..<3, using: &random) > 0 { members.append("\"password\": \"x\"") }
        members.shuffle(using: &random)
        var text = "{" + members.joined(separator: Bool.random(using: &random) ? "," : " ,\n ") + "}"
        switch Int.random(in: 0..<14, using: &random) {
        case 0: text = "[" + text + "]"
        case 1: text += ","  // trailing garbage
        case 2: text = text.replacingOccurrences(of: "}", with: ",}")  // trailing comma (JSON5)
        case 3: text = "\u{FEFF}" + text  // byte-order mark
        case 4: text = text.replacingOccurrences(of: "\"", with: "'")  // single quotes
        case 5: text = "/* c */" + text  // a comment
        case 6: text = "  \n" + text + "\n "
        case 7: return Array(text.utf8) + [0xFF, 0xFE]
        case 8: return Array(text.utf8.prefix(max(1, text.utf8.count / 2)))  // cut short
        default: break
        }
        return Array(text.utf8)
    }

    static func percentEncoded(_ text: String, using random: inout SplitMix64) -> String {
        var out = ""
        for byte in text.utf8 {
            let plain = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            if byte == 0x20, Bool.random(using: &random) { out += "+" } else if plain, Int.random(in: 0..<6, using: &random) > 0 {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    static func form(using random: inout SplitMix64) -> [UInt8] {
        var pairs: [[UInt8]] = []
        for _ in 0..<Int.random(in: 0...4, using: &random) {
            let name = fieldNames.randomElement(using: &random)!
            let value: String
            switch Int.random(in: 0..<8, using: &random) {
            case 0: value = "%zz"  // a malformed escape
            case 1: value = ""
            case 2: pairs.append(Array(name.utf8)); continue  // a name with no `=`
            case 3: pairs.append(Array("\(name)=".utf8) + [0xC3, 0x28, 0xFF]); continue  // not UTF-8
            default: value = percentEncoded(usernames.randomElement(using: &random)!, using: &random)
            }
            pairs.append(Array("\(name)=\(value)".utf8))
        }
        if Int.random(in: 0..<3, using: &random) > 0 { pairs.append(Array("password=x".utf8)) }
        pairs.shuffle(using: &random)
        let separator: [UInt8] = Int.random(in: 0..<6, using: &random) == 0 ? Array(";".utf8) : Array("&".utf8)
        return Array(pairs.joined(separator: separator))
    }

    static func multipart(using random: inout SplitMix64) -> [UInt8] {
        var body = ""
        for _ in 0..<Int.random(in: 0...3, using: &random) {
            let name = fieldNames.randomElement(using: &random)!
            let filename = Int.random(in: 0..<6, using: &random) == 0 ? "; filename=\"a.txt\"" : ""
            body += "--XyZ\r\nContent-Disposition: form-data; name=\"\(name)\"\(filename)\r\n\r\n\(usernames.randomElement(using: &random)!)\r\n"
        }
        if Bool.random(using: &random) { body += "--XyZ\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nx\r\n" }
        body += Int.random(in: 0..<8, using: &random) == 0 ? "--XyZ" : "--XyZ--\r\n"
        return Array(body.utf8)
    }

    /// One or two `Authorization` values: Basic in every spelling, with and without colons, bad base64, other schemes.
    public static func authorization(using random: inout SplitMix64) -> [String] {
        func one() -> String {
            let user = usernames.randomElement(using: &random)!
            let credentials: String
            switch Int.random(in: 0..<6, using: &random) {
            case 0: credentials = user  // no colon
            case 1: credentials = "\(user):pa:ss"
            case 2: credentials = ":\(user)"
            default: credentials = "\(user):secret"
            }
            var encoded = Data(credentials.utf8).base64EncodedString()
            switch Int.random(in: 0..<10, using: &random) {
            case 0: encoded = String(encoded.dropLast())
            case 1: encoded += "!"
            case 2: encoded = encoded.replacingOccurrences(of: "=", with: "")
            default: break
            }
            let scheme = ["Basic", "basic", "BASIC", "Bearer", "Basic ", "Basic\t"].randomElement(using: &random)!
            let space = [" ", "  ", " ", " "].randomElement(using: &random)!
            return Int.random(in: 0..<12, using: &random) == 0 ? scheme : scheme + space + encoded
        }
        return Int.random(in: 0..<10, using: &random) == 0 ? [one(), one()] : [one()]
    }
}
