import DefenderCore
import DefenderTesting
import Foundation
import NIOCore
import NIOPosix
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
