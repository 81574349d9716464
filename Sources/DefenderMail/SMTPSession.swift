import DefenderCore
import Foundation
import NIOCore
import NIOSSL

/// One SMTP conversation on an open connection: the steps of ``SMTPMailer/send(_:)``.
struct SMTPSession {
    let server: SMTPServerURL
    let clientName: String
    let channel: any Channel
    let tlsContext: NIOSSLContext?
    /// The STARTTLS step, shared with the reply decoder.
    let startTLSGuard: StartTLSGuard
    var replies: NIOAsyncChannelInboundStream<SMTPReply>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var isSecure: Bool

    init(
        server: SMTPServerURL, clientName: String, channel: any Channel, tlsContext: NIOSSLContext?, startTLSGuard: StartTLSGuard,
        replies: NIOAsyncChannelInboundStream<SMTPReply>.AsyncIterator, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) {
        self.server = server
        self.startTLSGuard = startTLSGuard
        self.clientName = clientName
        self.channel = channel
        self.tlsContext = tlsContext
        self.replies = replies
        self.outbound = outbound
        self.isSecure = server.security == .implicitTLS
    }

    mutating func deliver(_ message: DefenderMailMessage) async throws {
        try expect(try await nextReply(after: "the greeting"), 220, step: "the greeting")
        var capabilities = try await hello()
        if server.security == .startTLS {
            // Required, not opportunistic: the message holds an unlock link, and a server (or a man in the middle)
            // that does not offer STARTTLS would otherwise get it, and the password, in the clear.
            guard capabilities.contains("STARTTLS") else {
                throw DefenderError(
                    .mailFailed,
                    "the mail server \(server) does not offer STARTTLS: mail is not sent in the clear (use smtps://, a server with TLS, or ?tls=none for a loopback relay)")
            }
            startTLSGuard.arm()
            try expect(try await command("STARTTLS"), 220, step: "STARTTLS")
            try await startTLS()
            capabilities = try await hello()
        }
        if let username = server.username, let password = server.password {
            try await authenticate(username: username, password: password.value, capabilities: capabilities)
        }
        let encoding = MailComposer.encoding(for: message.text, serverAccepts8Bit: capabilities.contains("8BITMIME"))
        let body = encoding == .eightBit ? " BODY=8BITMIME" : ""
        try expect(try await command("MAIL FROM:<\(message.from)>\(body)"), 250, step: "MAIL FROM")
        let recipient = try await command("RCPT TO:<\(message.to)>")
        guard recipient.code == 250 || recipient.code == 251 else { throw refused("RCPT TO", recipient) }
        try expect(try await command("DATA"), 354, step: "DATA")
        let domain = message.from.split(separator: "@").last.map(String.init) ?? "localhost"
        let messageID = "\(UUID().uuidString.lowercased())@\(domain)"
        try await write(MailComposer.data(for: message, encoding: encoding, messageID: messageID))
        try expect(try await nextReply(after: "the message"), 250, step: "the message")
        // The server has the message; a QUIT that goes unanswered changes nothing.
        try? await write("QUIT\r\n")
    }

    /// `EHLO`; the capabilities the server announced, upper-cased (`AUTH PLAIN LOGIN` as `AUTH`, `PLAIN`, `LOGIN`).
    private mutating func hello() async throws -> Set<String> {
        let reply = try await command("EHLO \(clientName)")
        try expect(reply, 250, step: "EHLO")
        var capabilities: Set<String> = []
        for line in reply.lines.dropFirst() {
            let words = line.uppercased().split(whereSeparator: { $0 == " " || $0 == "=" })
            guard let first = words.first else { continue }
            capabilities.insert(String(first))
            if first == "AUTH" { for mechanism in words.dropFirst() { capabilities.insert("AUTH:" + mechanism) } }
        }
        return capabilities
    }

    private mutating func startTLS() async throws {
        guard let tlsContext else { throw DefenderError(.mailFailed, "TLS is not set up") }
        let hostname = SMTPMailer.serverHostname(server.host)
        let channel = self.channel
        let startTLSGuard = self.startTLSGuard
        try await channel.eventLoop.submit {
            // On the event loop, where the decoder runs: a byte read before this point was plain text and refused.
            try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tlsContext, serverHostname: hostname), position: .first)
            startTLSGuard.secure()
        }.get()
        isSecure = true
    }

    private mutating func authenticate(username: String, password: String, capabilities: Set<String>) async throws {
        if capabilities.contains("AUTH:PLAIN") {
            let credentials = Data(([0] + Array(username.utf8) + [0] + Array(password.utf8))).base64EncodedString()
            try expect(try await command("AUTH PLAIN \(credentials)"), 235, step: "AUTH PLAIN")
        } else if capabilities.contains("AUTH:LOGIN") {
            try expect(try await command("AUTH LOGIN"), 334, step: "AUTH LOGIN")
            try expect(try await command(Data(username.utf8).base64EncodedString()), 334, step: "AUTH LOGIN (user)")
            try expect(try await command(Data(password.utf8).base64EncodedString()), 235, step: "AUTH LOGIN")
        } else {
            throw DefenderError(.mailFailed, "the mail server \(server) offers neither AUTH PLAIN nor AUTH LOGIN, and the URL has credentials")
        }
    }

    private mutating func command(_ line: String) async throws -> SMTPReply {
        try await write(line + "\r\n")
        // Named by its verb only: an AUTH line holds the credentials.
        return try await nextReply(after: String(line.prefix(while: { $0 != " " && $0 != ":" })))
    }

    private func write(_ text: String) async throws {
        try await outbound.write(channel.allocator.buffer(string: text))
    }

    private mutating func nextReply(after step: String) async throws -> SMTPReply {
        guard let reply = try await replies.next() else {
            throw DefenderError(.mailFailed, "the mail server \(server) closed the connection (or the deadline passed) after \(step)")
        }
        return reply
    }

    private func expect(_ reply: SMTPReply, _ code: Int, step: String) throws {
        guard reply.code == code else { throw refused(step, reply) }
    }

    private func refused(_ step: String, _ reply: SMTPReply) -> DefenderError {
        DefenderError(.mailFailed, "the mail server \(server) refused \(step): \(reply.summary)")
    }
}
