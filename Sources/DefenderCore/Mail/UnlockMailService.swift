import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Mails the owner of a locked account a single-use link that lifts the lock (see ``UnlockMailSettings``).
///
/// It listens for automatic username lockouts (``DefenderEvent/usernameBlocked(_:)`` with any cause but an
/// operator's), and for each asks the app for the account's address, records the link in the store (at most
/// ``UnlockMailSettings/mailsPerDay`` a day per account) and hands the message to the ``DefenderMailer``. All of
/// it happens here, off the login path, through a bounded queue: a slow, unreachable or refusing mail server never
/// slows or fails a login; it is logged (never the address or the link) and counted in
/// `defender_unlock_mails_total{result}`.
///
/// ```swift
/// let unlockMail = try UnlockMailService(
///     defender: defender, mailer: SMTPMailer(server: try SMTPServerURL("smtp://mail.example.com:587")),
///     publicURL: "https://example.com", emailAddress: { username in try await users.email(of: username) })
/// // Hummingbird: add it to the ServiceGroup; Vapor: app.defender.run(unlockMail).
/// ```
///
/// It is a swift-service-lifecycle `Service`: ``run()`` sends until graceful shutdown, after the e-mails already
/// queued.
public final class UnlockMailService: Service {
    /// Looks up the e-mail address of a username (normalised: trimmed and lower-cased); `nil` when it has none.
    public typealias AddressLookup = @Sendable (String) async throws -> String?

    private struct Job: Sendable {
        let username: DefenderKey
        let lockedAt: Date
    }

    private let defender: Defender
    private let links: UnlockLinks
    private let mailer: any DefenderMailer
    private let publicURL: @Sendable () -> String
    private let from: String
    private let emailAddress: AddressLookup
    private let sendTimeout: Duration
    private let stream: AsyncStream<Job>
    private let continuation: AsyncStream<Job>.Continuation

    /// Creates the service and subscribes it to `defender`'s events.
    /// - Parameters:
    ///   - defender: the engine whose lockouts are mailed about; its configuration gives the sender, the link's
    ///     lifetime and the daily limit.
    ///   - mailer: sends the messages (`SMTPMailer` for `DEFENDER_SMTP_URL`, or the app's own).
    ///   - publicURL: the site's address as its users reach it, the base of `/unlock/<token>`, read when a mail is
    ///     written (so that it may name a port chosen at start-up); ``UnlockMailSettings/publicURL`` wins when set.
    ///   - emailAddress: the account's address for a username, or `nil`.
    ///   - queueSize: the most e-mails waiting; past it the oldest waiting one is dropped (and counted).
    ///   - sendTimeout: the longest one e-mail may take: the address lookup, the store and the sending.
    /// - Throws: ``DefenderError`` when `DEFENDER_SECRET_KEY` or `DEFENDER_MAIL_FROM` is not set.
    public init(
        defender: Defender, mailer: any DefenderMailer, publicURL: @autoclosure @escaping @Sendable () -> String,
        emailAddress: @escaping AddressLookup,
        queueSize: Int = 1000, sendTimeout: Duration = .seconds(30)
    ) throws(DefenderError) {
        guard let links = defender.unlockLinks else {
            throw DefenderError(.invalidConfiguration, "is required for unlock e-mails: it signs the links", setting: "DEFENDER_SECRET_KEY")
        }
        guard let from = defender.configuration.unlockMail.mailFrom else {
            throw DefenderError(.invalidConfiguration, "is required for unlock e-mails: their sender's address", setting: "DEFENDER_MAIL_FROM")
        }
        self.defender = defender
        self.links = links
        self.mailer = mailer
        self.from = from
        let configured = defender.configuration.unlockMail.publicURL
        self.publicURL = { configured ?? publicURL() }
        self.emailAddress = emailAddress
        self.sendTimeout = sendTimeout
        (stream, continuation) = AsyncStream.makeStream(of: Job.self, bufferingPolicy: .bufferingNewest(max(1, queueSize)))
        let continuation = self.continuation
        let metrics = defender.metrics
        // A dry run counts and logs lockouts without enforcing them: nobody is locked, so nobody is mailed.
        let dryRun = defender.configuration.dryRun
        defender.events.on(detailed: { event, cause in
            guard case .usernameBlocked(let username) = event, cause != .manual, !dryRun else { return }
            let job = Job(username: DefenderKey(kind: .username, normalizedValue: username), lockedAt: Date())
            switch continuation.yield(job) {
            case .enqueued: break
            // Full (the oldest waiting one went), or the service has stopped: either way a mail is not sent.
            case .dropped, .terminated: metrics.unlock.record(.dropped)
            @unknown default: metrics.unlock.record(.dropped)
            }
        })
    }

    /// Sends the queued e-mails until graceful shutdown (then the ones already queued) or cancellation.
    public func run() async {
        await withGracefulShutdownHandler {
            for await job in stream { await deliver(job) }
        } onGracefulShutdown: {
            self.continuation.finish()
        }
    }

    private func deliver(_ job: Job) async {
        let result: UnlockMetrics.MailResult
        do {
            // One deadline for the whole job (the app's address lookup, the store, the mail): a hung step must
            // not hold up the mails queued behind it.
            result = try await Self.withDeadline(sendTimeout) { try await self.send(job) }
        } catch {
            result = .failed
            defender.logger.error(
                "an unlock e-mail was not sent", metadata: ["username": defender.shown(job.username.value), "error": "\(Self.describe(error))"])
        }
        defender.metrics.unlock.record(result)
    }

    private func send(_ job: Job) async throws -> UnlockMetrics.MailResult {
        guard let address = try await emailAddress(job.username.value) else { return .noAddress }
        guard MailAddress.isValid(address) else {
            defender.logger.warning("the address the app gave for an unlock e-mail is not valid", metadata: ["username": defender.shown(job.username.value)])
            return .noAddress
        }
        let issued = Date()
        let (token, nonce) = links.issue(for: job.username, now: issued)
        let settings = defender.configuration.unlockMail
        guard try await defender.store.recordUnlockMail(for: job.username, nonce: nonce, linkTTL: links.ttl, dailyLimit: settings.mailsPerDay) else {
            return .limited
        }
        let remaining = try? await defender.store.state(of: job.username).block?.remaining
        var base = publicURL()
        while base.hasSuffix("/") { base.removeLast() }
        let message = UnlockMailText(
            username: job.username.value, lockedAt: job.lockedAt, lockRemaining: remaining, link: "\(base)/unlock/\(token)",
            linkExpires: issued.addingTimeInterval(Double(links.ttl.components.seconds))
        ).message(from: from, to: address)
        try await mailer.send(message)
        return .sent
    }

    /// Runs `operation`, cancelled and failed with a timeout if it takes longer than `limit` (an operation that
    /// ignores cancellation is waited for: the mailer and the stores here honour it).
    static func withDeadline<T: Sendable>(_ limit: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            guard let first else { throw DefenderError(.mailFailed, "the unlock e-mail did not finish within \(limit)") }
            return first
        }
    }

    /// An error's description for a log line; a `DefenderError`'s message, which never holds a secret.
    private static func describe(_ error: any Error) -> String {
        if let error = error as? DefenderError { return error.message }
        return String(describing: type(of: error))
    }
}
