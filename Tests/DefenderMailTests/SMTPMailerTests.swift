import DefenderCore
import DefenderTesting
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import DefenderMail

/// The SMTP client against a real server (aiosmtpd, started by `scripts/test`): STARTTLS, AUTH, DATA, and every
/// way it refuses to go on.
@Suite(.serialized) struct SMTPMailerTests {
    func message(to address: String, text: String = "Hello,\n.a line that starts with a dot\n\nBye.\n") -> DefenderMailMessage {
        DefenderMailMessage(from: "security@example.test", to: address, subject: "Test “mail”", text: text)
    }

    @Test func deliversOverSTARTTLSWithAuth() async throws {
        guard let smtp = TestSMTPServer.shared else { return }
        let address = TestSMTPServer.freshAddress()
        try await SMTPMailer(server: smtp.server).send(message(to: address))
        let received = try await smtp.waitForMessages(to: address)
        try #require(received.count == 1)
        let mail = received[0]
        #expect(mail.headers["x-was-tls"] == "True" && mail.headers["x-authenticated"] == "True")
        #expect(mail.headers["x-envelope-from"] == "security@example.test")
        #expect(mail.body.contains("\n.a line that starts with a dot\n"))
        #expect(mail.headers["subject"]?.hasPrefix("=?UTF-8?B?") == true)
        #expect(mail.headers["auto-submitted"] == "auto-generated")
    }

    @Test func utf8BodiesArrive() async throws {
        guard let smtp = TestSMTPServer.shared else { return }
        let address = TestSMTPServer.freshAddress()
        try await SMTPMailer(server: smtp.server).send(message(to: address, text: "Grüße, “alice”\n"))
        let mail = try #require(try await smtp.waitForMessages(to: address).first)
        #expect(mail.body.contains("Grüße, “alice”"))
    }

    @Test func aWrongPasswordIsRefusedWithoutShowingIt() async throws {
        guard let smtp = TestSMTPServer.shared else { return }
        var server = smtp.server
        server.password = DefenderSecret("wrong-password-xyz")
        do {
            try await SMTPMailer(server: server).send(message(to: TestSMTPServer.freshAddress()))
            Issue.record("a wrong password was accepted")
        } catch let error as DefenderError {
            #expect(error.code == .mailFailed)
            #expect(error.message.contains("AUTH") && error.message.contains("535"))
            #expect(!error.message.contains("wrong-password-xyz") && !error.message.contains(smtp.server.password?.value ?? "-"))
        }
    }

    @Test func anUntrustedCertificateStopsTheMail() async throws {
        guard let smtp = TestSMTPServer.shared else { return }
        var server = smtp.server
        server.caCertificatesPath = nil  // the system's roots do not know the test server's certificate
        let address = TestSMTPServer.freshAddress()
        await #expect(throws: DefenderError.self) { try await SMTPMailer(server: server).send(message(to: address)) }
        try await Task.sleep(for: .milliseconds(200))
        #expect(smtp.messages(to: address).isEmpty)
    }

    @Test func tlsNoneSendsPlainButNeverAuthenticatesInTheClear() async throws {
        guard let smtp = TestSMTPServer.shared else { return }
        var plain = smtp.server
        plain.security = .none
        plain.username = nil
        plain.password = nil
        let address = TestSMTPServer.freshAddress()
        try await SMTPMailer(server: plain).send(message(to: address))
        let mail = try #require(try await smtp.waitForMessages(to: address).first)
        #expect(mail.headers["x-was-tls"] == "False")
        // With credentials, the server itself refuses AUTH before TLS (auth_require_tls).
        var clear = smtp.server
        clear.security = .none
        await #expect(throws: DefenderError.self) { try await SMTPMailer(server: clear).send(message(to: TestSMTPServer.freshAddress())) }
    }

    /// A server (or a man in the middle) that does not offer STARTTLS gets nothing over smtp://: not the password,
    /// not the message (which holds an unlock link). The server here greets and accepts every command, as a
    /// stripping attacker's would.
    @Test func noSTARTTLSMeansNoMail() async throws {
        let lines = LineRecorder()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(AcceptEverything(lines: lines)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { channel.close(promise: nil) }
        for credentials in ["", "mailer:secret-pw@"] {
            let server = try SMTPServerURL("smtp://\(credentials)127.0.0.1:\(channel.localAddress?.port ?? 0)")
            do {
                try await SMTPMailer(server: server, timeout: .seconds(5)).send(message(to: "alice@example.test"))
                Issue.record("mail went out without TLS")
            } catch let error as DefenderError {
                #expect(error.code == .mailFailed && error.message.contains("does not offer STARTTLS"))
            }
        }
        let seen = lines.all.joined(separator: "\n")
        #expect(!seen.contains("MAIL FROM") && !seen.contains("AUTH") && !seen.contains("DATA"), "\(seen)")
    }

    /// A man in the middle who answers STARTTLS with "220" and a forged reply in the same breath (RFC 3207 §4,
    /// reply injection): the client refuses the plain-text bytes instead of reading them as the server's answers
    /// after the handshake, and the message never goes out.
    @Test func repliesInjectedBeforeTheHandshakeAreRefused() async throws {
        let lines = LineRecorder()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptEverything(lines: lines, afterSTARTTLS: "250 injected\r\n"))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { channel.close(promise: nil) }
        let server = try SMTPServerURL("smtp://127.0.0.1:\(channel.localAddress?.port ?? 0)")
        do {
            try await SMTPMailer(server: server, timeout: .seconds(5)).send(message(to: "alice@example.test"))
            Issue.record("mail went out after an injected reply")
        } catch let error as DefenderError {
            #expect(error.code == .mailFailed && error.message.contains("possible reply injection"), "\(error.message)")
        }
        let seen = lines.all.joined(separator: "\n")
        #expect(seen.contains("STARTTLS") && !seen.contains("MAIL FROM") && !seen.contains("DATA"), "\(seen)")
    }

    @Test func aDeadServerFailsFast() async throws {
        // A port that was just free: bound, then closed.
        let probe = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = probe.localAddress?.port ?? 1
        try await probe.close()
        let server = try SMTPServerURL("smtp://127.0.0.1:\(port)")
        let started = ContinuousClock.now
        do {
            try await SMTPMailer(server: server, connectTimeout: .seconds(2)).send(message(to: "a@example.test"))
            Issue.record("sent to a closed port")
        } catch let error as DefenderError {
            #expect(error.code == .mailFailed && error.message.contains("cannot connect"))
        }
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test func aSilentServerHitsTheDeadline() async throws {
        // A listener that accepts and never greets: the whole-message deadline closes the connection.
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        defer { channel.close(promise: nil) }
        let server = try SMTPServerURL("smtp://127.0.0.1:\(channel.localAddress?.port ?? 0)")
        do {
            try await SMTPMailer(server: server, timeout: .seconds(1)).send(message(to: "a@example.test"))
            Issue.record("a silent server accepted mail")
        } catch let error as DefenderError {
            #expect(error.code == .mailFailed && error.message.contains("greeting"))
        }
    }

    @Test func invalidAddressesAreRefusedBeforeConnecting() async throws {
        let server = try SMTPServerURL("smtp://127.0.0.1:1")
        let bad = DefenderMailMessage(from: "security@example.test", to: "x@y>\r\nRCPT TO:<z@w", subject: "s", text: "t")
        do {
            try await SMTPMailer(server: server).send(bad)
            Issue.record("an injected recipient was accepted")
        } catch let error as DefenderError {
            #expect(error.message.contains("not a valid e-mail address"))
        }
    }
}

/// The lines a fake server received.
final class LineRecorder: Sendable {
    private let lines = Mutex<[String]>([])
    func add(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

/// A server that greets, and answers `250` to every line without offering STARTTLS — or, given `afterSTARTTLS`,
/// offers it and answers it with `220` followed at once by those bytes (a reply injection).
final class AcceptEverything: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let lines: LineRecorder
    let afterSTARTTLS: String?

    init(lines: LineRecorder, afterSTARTTLS: String? = nil) {
        self.lines = lines
        self.afterSTARTTLS = afterSTARTTLS
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: "220 fake ESMTP\r\n")), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let text = String(buffer: unwrapInboundIn(data))
        for line in text.split(separator: "\r\n") where !line.isEmpty {
            lines.add(String(line))
            let command = line.uppercased()
            let reply =
                if command.hasPrefix("EHLO") { afterSTARTTLS == nil ? "250-fake\r\n250 AUTH PLAIN LOGIN\r\n" : "250-fake\r\n250 STARTTLS\r\n" }
                else if command == "STARTTLS", let afterSTARTTLS { "220 go ahead\r\n" + afterSTARTTLS }
                else { "250 OK\r\n" }
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: reply)), promise: nil)
        }
    }
}
