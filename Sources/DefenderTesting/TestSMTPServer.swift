import DefenderCore
import Foundation
import Testing

/// The real SMTP server `scripts/test` starts (aiosmtpd from PyPI on loopback: STARTTLS, `AUTH PLAIN`/`LOGIN` over
/// TLS only), and the messages it received, read from its mailbox directory.
public struct TestSMTPServer: Sendable {
    /// `smtp://USER:PASSWORD@127.0.0.1:PORT?ssl_ca_certs=CERT` (`DEFENDER_TEST_SMTP_URL`).
    public let url: String
    /// The parsed URL.
    public let server: SMTPServerURL
    /// Where the server writes each accepted message (`DEFENDER_TEST_SMTP_MAILBOX`).
    public let mailbox: URL

    /// The server of `scripts/test`, or `nil` when the tests run without it (under CI: a recorded failure).
    public static var shared: TestSMTPServer? {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["DEFENDER_TEST_SMTP_URL"], let mailbox = environment["DEFENDER_TEST_SMTP_MAILBOX"],
            let server = try? SMTPServerURL(url)
        else {
            if environment["CI"] == "true" {
                Issue.record("the SMTP test server is required when CI=true; run the tests with scripts/test")
            }
            return nil
        }
        return TestSMTPServer(url: url, server: server, mailbox: URL(fileURLWithPath: mailbox))
    }

    /// A fresh recipient address, so that each test reads only its own mail.
    public static func freshAddress(_ name: String = "user") -> String {
        "\(name)-\(UUID().uuidString.prefix(8).lowercased())@example.test"
    }

    /// A message as the server received it.
    public struct ReceivedMail: Sendable {
        /// The header fields, names lower-cased (the server's `x-envelope-from`, `x-envelope-to`, `x-was-tls` and
        /// `x-authenticated` among them).
        public let headers: [String: String]
        /// The body, decoded from its transfer encoding.
        public let body: String
        /// The raw DATA as the server stored it.
        public let raw: String
    }

    /// The messages received for `address` so far.
    public func messages(to address: String) -> [ReceivedMail] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: mailbox.path)) ?? []
        return files.filter { $0.hasSuffix(".eml") }.sorted().compactMap { name in
            guard let raw = try? String(contentsOf: mailbox.appendingPathComponent(name), encoding: .utf8) else { return nil }
            let mail = Self.parse(raw)
            return mail.headers["x-envelope-to"]?.split(separator: ",").contains(where: { $0 == address }) == true ? mail : nil
        }
    }

    /// Waits up to `timeout` for `count` messages to `address`.
    public func waitForMessages(to address: String, count: Int = 1, timeout: Duration = .seconds(10)) async throws -> [ReceivedMail] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let found = messages(to: address)
            if found.count >= count || ContinuousClock.now > deadline { return found }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    static func parse(_ raw: String) -> ReceivedMail {
        let normalized = raw.replacingOccurrences(of: "\r\n", with: "\n")
        let parts = normalized.components(separatedBy: "\n\n")
        var headers: [String: String] = [:]
        for line in (parts.first ?? "").split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = parts.dropFirst().joined(separator: "\n\n")
        if headers["content-transfer-encoding"] == "base64",
            let data = Data(base64Encoded: body.replacingOccurrences(of: "\n", with: "")), let text = String(data: data, encoding: .utf8)
        {
            body = text
        }
        return ReceivedMail(headers: headers, body: body, raw: raw)
    }
}
