import DefenderCore
import Foundation

/// Writes a `DefenderMailMessage` as the data of an SMTP `DATA` command (RFC 5322 headers, a MIME text body),
/// with CRLF line ends, dot-stuffing and the final `.` line.
enum MailComposer {
    /// How the body travels.
    enum BodyEncoding: Equatable {
        /// ASCII, lines short enough: as it is.
        case sevenBit
        /// UTF-8 as it is, for a server that announced `8BITMIME` (`MAIL FROM:<…> BODY=8BITMIME`).
        case eightBit
        /// Base64, for anything else.
        case base64
    }

    /// The encoding `text` needs on a server that does (or does not) accept 8-bit bodies.
    static func encoding(for text: String, serverAccepts8Bit: Bool) -> BodyEncoding {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.allSatisfy({ $0.utf8.count <= 900 }) {
            if text.utf8.allSatisfy({ $0 < 0x80 && $0 != 0 }) { return .sevenBit }
            if serverAccepts8Bit && !text.utf8.contains(0) { return .eightBit }
        }
        return .base64
    }

    /// The `DATA` payload, ending with `CRLF.CRLF`.
    static func data(for message: DefenderMailMessage, encoding: BodyEncoding, date: Date = Date(), messageID: String) -> String {
        let headers = [
            "From: \(message.from)",
            "To: \(message.to)",
            "Subject: \(encodedHeaderText(message.subject))",
            "Date: \(rfc5322Date(date))",
            "Message-ID: <\(messageID)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: \(encoding == .sevenBit ? "7bit" : encoding == .eightBit ? "8bit" : "base64")",
            "Auto-Submitted: auto-generated",
        ]
        let bodyLines: [String]
        switch encoding {
        case .sevenBit, .eightBit:
            bodyLines = message.text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
                .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        case .base64:
            let encoded = Data(message.text.utf8).base64EncodedString()
            bodyLines = stride(from: 0, to: encoded.count, by: 76).map { start in
                let from = encoded.index(encoded.startIndex, offsetBy: start)
                return String(encoded[from..<(encoded.index(from, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex)])
            }
        }
        // Dot-stuffing (RFC 5321 §4.5.2): a line that starts with "." gets another, so no line ends the data early.
        let stuffed = (headers + [""] + bodyLines).map { $0.hasPrefix(".") ? "." + $0 : $0 }
        return stuffed.joined(separator: "\r\n") + "\r\n.\r\n"
    }

    /// A header's text on one line: as it is when printable ASCII, else an RFC 2047 encoded word; line breaks
    /// never survive (they would start a header of the sender's choosing).
    static func encodedHeaderText(_ text: String) -> String {
        let flat = text.map { $0.isNewline ? " " : $0 }.reduce(into: "") { $0.append($1) }
        if flat.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return flat }
        return "=?UTF-8?B?\(Data(flat.utf8).base64EncodedString())?="
    }

    /// `Sun, 06 Dec 2026 16:40:00 +0000`.
    static func rfc5322Date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int?) -> String { String((value ?? 0) + 100).dropFirst().description }
        return "\(days[((parts.weekday ?? 1) - 1) % 7]), \(two(parts.day)) \(months[((parts.month ?? 1) - 1) % 12]) \(parts.year ?? 1970) "
            + "\(two(parts.hour)):\(two(parts.minute)):\(two(parts.second)) +0000"
    }
}
