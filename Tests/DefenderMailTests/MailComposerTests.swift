import DefenderCore
import Foundation
import Testing

@testable import DefenderMail

/// The DATA payload: CRLF lines, dot-stuffing, headers that cannot be split, and the right transfer encoding.
struct MailComposerTests {
    @Test func dotStuffsAndEndsTheData() {
        let message = DefenderMailMessage(from: "a@example.com", to: "b@example.com", subject: "Hi", text: ".\n..two\nend.\n")
        let data = MailComposer.data(for: message, encoding: .sevenBit, messageID: "x@example.com")
        #expect(data.hasSuffix("\r\n..\r\n...two\r\nend.\r\n\r\n.\r\n"))
        #expect(!data.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(data.contains("Content-Transfer-Encoding: 7bit\r\n"))
    }

    @Test func headersCannotBeInjected() {
        let subject = MailComposer.encodedHeaderText("Locked\r\nBcc: victim@example.com")
        #expect(!subject.contains("\r") && !subject.contains("\n"))
        #expect(MailComposer.encodedHeaderText("Gesperrt: Konto “alice”").hasPrefix("=?UTF-8?B?"))
    }

    @Test func choosesTheEncoding() {
        #expect(MailComposer.encoding(for: "plain", serverAccepts8Bit: false) == .sevenBit)
        #expect(MailComposer.encoding(for: "naïve", serverAccepts8Bit: true) == .eightBit)
        #expect(MailComposer.encoding(for: "naïve", serverAccepts8Bit: false) == .base64)
        #expect(MailComposer.encoding(for: String(repeating: "x", count: 1200), serverAccepts8Bit: true) == .base64)
        let data = MailComposer.data(
            for: DefenderMailMessage(from: "a@example.com", to: "b@example.com", subject: "s", text: "naïve\n"), encoding: .base64,
            messageID: "x@example.com")
        #expect(data.contains(Data("naïve\n".utf8).base64EncodedString()))
    }

    @Test func datesAreRFC5322() {
        #expect(MailComposer.rfc5322Date(Date(timeIntervalSince1970: 1_796_000_000)) == "Mon, 30 Nov 2026 00:53:20 +0000")
    }
}
