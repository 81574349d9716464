import DefenderCore
import DefenderMail
import DefenderTesting
import Foundation
import MetricsTestKit
import NIOCore
import NIOPosix
import Testing

/// The unlock e-mail end to end through the real SMTP path (aiosmtpd, started by `scripts/test`): a lockout mails
/// one working link; the daily limit, an account without an address, and a mail server that never answers.
@Suite(.serialized) struct UnlockMailServiceTests {
    static let secret = "unlock-mail-secret-key-0123456789-abcdefghij"

    struct Setup {
        let engine: Defender
        let metrics: TestMetrics
        let logs: LogCapture
    }

    func setup(_ server: SMTPServerURL, mailsPerDay: Int = 3) throws -> Setup {
        var config = DefenderConfiguration()
        config.secretKeys = [DefenderSecret(Self.secret)]
        config.unlockMail.smtpURL = server
        config.unlockMail.mailFrom = "security@example.test"
        config.unlockMail.mailsPerDay = mailsPerDay
        try config.validate()
        let metrics = TestMetrics()
        let logs = LogCapture()
        return Setup(engine: Defender(configuration: config, metrics: DefenderMetrics(factory: metrics), logger: logs.logger), metrics: metrics, logs: logs)
    }

    /// Runs `service` and the engine's event bus (which delivers the lockouts to it) while `body` runs, and stops
    /// them after.
    func running(_ service: UnlockMailService, engine: Defender, _ body: () async throws -> Void) async throws {
        let events = engine.events
        let tasks = [Task { await events.run() }, Task { await service.run() }]
        defer { for task in tasks { task.cancel() } }
        try await body()
    }

    /// Four failures from four addresses lock alice.
    func lock(_ engine: Defender, _ username: String, from network: Int = 1) async throws {
        var results: [LoginResult] = []
        for bot in 1...4 { results.append(try await engine.login(ip: "198.51.\(network).\(bot)", username: username, correctPassword: false)) }
        #expect(results == [.failure, .failure, .failure, .lockedOut])
    }

    static func token(in mail: TestSMTPServer.ReceivedMail, base: String) throws -> String {
        let start = try #require(mail.body.range(of: base + "/unlock/"))
        return String(mail.body[start.upperBound...].prefix { !$0.isWhitespace })
    }

    func sent(_ setup: Setup, _ result: String) -> Int64 {
        setup.metrics.counterTotal(label: "defender_unlock_mails_total", dimensions: [("result", result)])
    }

    /// A service that mails `address` for every username through `server`.
    func service(_ setup: Setup, _ server: SMTPServerURL, to address: String, sendTimeout: Duration = .seconds(30)) throws -> UnlockMailService {
        try UnlockMailService(
            defender: setup.engine, mailer: SMTPMailer(server: server), publicURL: "https://example.test", emailAddress: { _ in address },
            sendTimeout: sendTimeout)
    }

    /// A mail server that accepts connections and never answers.
    func silentServer() async throws -> (channel: any Channel, url: SMTPServerURL) {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in channel.eventLoop.makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
        return (channel, try SMTPServerURL("smtp://127.0.0.1:\(channel.localAddress?.port ?? 1)"))
    }

    /// The scenario: one mail to the owner, over STARTTLS with AUTH, with a link under the public URL; it
    /// unlocks once; the log names neither the address nor the link.
    @Test func aLockoutMailsOneWorkingLink() async throws {
        guard let smtp = TestSMTPServer.shared else { return }
        let setup = try setup(smtp.server)
        let address = TestSMTPServer.freshAddress("alice")
        let service = try UnlockMailService(
            defender: setup.engine, mailer: SMTPMailer(server: smtp.server), publicURL: "https://example.test/app/",
            emailAddress: { $0 == "alice" ? address : nil })
        try await running(service, engine: setup.engine) {
            try await lock(setup.engine, "alice")
            let mails = try await smtp.waitForMessages(to: address)
            try #require(mails.count == 1)
            #expect(mails[0].headers["x-was-tls"] == "True" && mails[0].headers["x-authenticated"] == "True")
            #expect(mails[0].headers["x-envelope-from"] == "security@example.test")
            let token = try Self.token(in: mails[0], base: "https://example.test/app")
            #expect(mails[0].body.contains("alice"))

            #expect(try await setup.engine.login(ip: "192.0.2.1", username: "alice", correctPassword: true) == .refused)
            #expect(try await setup.engine.redeemUnlockToken(token) == .unlocked(username: "alice"))
            #expect(try await setup.engine.login(ip: "192.0.2.1", username: "alice", correctPassword: true) == .success)
            #expect(try await setup.engine.redeemUnlockToken(token) == .used)
            #expect(smtp.messages(to: address).count == 1)
            // Counted once the mailer returns (after QUIT), which may be after the server stored the message.
            #expect(try await eventually { sent(setup, "sent") == 1 }, "the condition did not hold within 10 s")
            #expect(setup.metrics.counterTotal(label: "defender_unlock_links_total", dimensions: [("result", "unlocked")]) == 1)
            #expect(setup.metrics.counterTotal(label: "defender_unlock_links_total", dimensions: [("result", "used")]) == 1)
            #expect(!setup.logs.messages.joined().contains(address) && !setup.logs.messages.joined().contains(token))
        }
    }

    /// `DEFENDER_UNLOCK_MAILS_PER_DAY=1`: the second lockout of the day sends nothing (counted as `limited`); a
    /// manual block by an operator sends nothing either.
    @Test func theDailyLimitAndManualBlocksSendNothing() async throws {
        guard let smtp = TestSMTPServer.shared else { return }
        let setup = try setup(smtp.server, mailsPerDay: 1)
        let address = TestSMTPServer.freshAddress("carol")
        let service = try UnlockMailService(
            defender: setup.engine, mailer: SMTPMailer(server: smtp.server), publicURL: "https://example.test",
            emailAddress: { _ in address })
        try await running(service, engine: setup.engine) {
            try await lock(setup.engine, "carol")
            let token = try Self.token(in: try #require(try await smtp.waitForMessages(to: address).first), base: "https://example.test")
            #expect(try await setup.engine.redeemUnlockToken(token) == .unlocked(username: "carol"))
            try await lock(setup.engine, "carol", from: 2)
            _ = try await setup.engine.block(username: "carol")
            #expect(try await eventually { sent(setup, "limited") == 1 }, "the condition did not hold within 10 s")
            #expect(smtp.messages(to: address).count == 1 && sent(setup, "sent") == 1)  // sent before the second lockout's job
        }
    }

    /// The mail server is down when alice is locked a second time: that e-mail fails, and the link of the first
    /// one, already in her inbox, still unlocks her (the failed e-mail's link was recorded before the send; it once
    /// replaced the pending one, so the only link she had answered "already used").
    @Test func aFailedMailLeavesTheEarlierLinkWorking() async throws {
        guard let smtp = TestSMTPServer.shared else { return }
        let setup = try setup(smtp.server)
        let address = TestSMTPServer.freshAddress("hana")
        let delivering = try service(setup, smtp.server, to: address)
        // One event bus throughout (a stream is iterated once); each service runs while it is the one in use.
        let events = Task { await setup.engine.events.run() }
        defer { events.cancel() }
        let first = Task { await delivering.run() }
        try await lock(setup.engine, "hana")
        let token = try Self.token(in: try #require(try await smtp.waitForMessages(to: address).first), base: "https://example.test")
        first.cancel()
        await first.value
        // Her lock lapses (an operator lifts it here); then the mail server stops answering and she is locked again.
        #expect(try await setup.engine.unblock(username: "hana"))
        let silent = try await silentServer()
        let failing = try service(setup, silent.url, to: address, sendTimeout: .seconds(1))
        let second = Task { await failing.run() }
        defer { second.cancel() }
        try await lock(setup.engine, "hana", from: 2)
        #expect(try await eventually { sent(setup, "failed") == 1 }, "the condition did not hold within 10 s")
        try await silent.channel.close()
        #expect(try await setup.engine.redeemUnlockToken(token) == .unlocked(username: "hana"))
        #expect(try await setup.engine.login(ip: "192.0.2.1", username: "hana", correctPassword: true) == .success)
        #expect(smtp.messages(to: address).count == 1)
    }

    /// A lockout answered after the service has stopped (during graceful shutdown) sends nothing and says so:
    /// counted as `dropped`, not lost without a trace.
    @Test func aLockoutAfterTheServiceStoppedIsCountedAsDropped() async throws {
        guard let smtp = TestSMTPServer.shared else { return }
        let setup = try setup(smtp.server)
        let address = TestSMTPServer.freshAddress("ivan")
        let service = try service(setup, smtp.server, to: address)
        let events = Task { await setup.engine.events.run() }
        defer { events.cancel() }
        let stopped = Task { await service.run() }
        stopped.cancel()
        await stopped.value
        try await lock(setup.engine, "ivan")
        #expect(try await eventually { sent(setup, "dropped") == 1 }, "the condition did not hold within 10 s")
        #expect(smtp.messages(to: address).isEmpty && sent(setup, "sent") == 0)
    }

    /// A dry run locks nobody, so it mails nobody.
    @Test func aDryRunSendsNothing() async throws {
        guard let smtp = TestSMTPServer.shared else { return }
        var config = DefenderConfiguration()
        config.secretKeys = [DefenderSecret(Self.secret)]
        config.unlockMail.smtpURL = smtp.server
        config.unlockMail.mailFrom = "security@example.test"
        config.dryRun = true
        try config.validate()
        let metrics = TestMetrics()
        let engine = Defender(configuration: config, metrics: DefenderMetrics(factory: metrics))
        let address = TestSMTPServer.freshAddress("gina")
        let service = try UnlockMailService(
            defender: engine, mailer: SMTPMailer(server: smtp.server), publicURL: "https://example.test", emailAddress: { _ in address })
        try await running(service, engine: engine) {
            for bot in 1...4 { _ = try await engine.login(ip: "198.51.7.\(bot)", username: "gina", correctPassword: false) }
            try await Task.sleep(for: .milliseconds(500))
            #expect(smtp.messages(to: address).isEmpty)
            #expect(metrics.counterTotal(label: "defender_unlock_mails_total", dimensions: [("result", "sent")]) == 0)
        }
    }

    /// A mail server that accepts the connection and never answers, and an account without an address: every
    /// login is answered while the mail is still stuck (nothing has been counted as sent or failed yet); the stuck
    /// mail fails at its deadline, logged without the address; nothing is mailed for the account without one.
    @Test func aStuckMailServerOrNoAddressLeaveLoginsAlone() async throws {
        let (silent, server) = try await silentServer()
        let setup = try setup(server)
        let service = try UnlockMailService(
            defender: setup.engine, mailer: SMTPMailer(server: server), publicURL: "https://example.test",
            emailAddress: { $0 == "dave" ? "dave@example.test" : nil }, sendTimeout: .seconds(2))
        try await running(service, engine: setup.engine) {
            try await lock(setup.engine, "erin", from: 2)
            #expect(try await eventually { sent(setup, "no_address") == 1 }, "the condition did not hold within 10 s")
            try await lock(setup.engine, "dave")
            // The mail to dave is stuck on the silent server: logins go on all the same.
            #expect(sent(setup, "failed") == 0 && sent(setup, "sent") == 0)
            for index in 1...20 { #expect(try await setup.engine.login(ip: "192.0.2.\(index)", username: "frank\(index)", correctPassword: true) == .success) }
            #expect(try await setup.engine.login(ip: "192.0.2.99", username: "dave", correctPassword: true) == .refused)
            #expect(try await eventually { sent(setup, "failed") == 1 }, "the condition did not hold within 10 s")
            let log = setup.logs.messages.joined(separator: "\n")
            #expect(log.contains("an unlock e-mail was not sent") && !log.contains("dave@example.test"))
        }
        try await silent.close()
    }
}
