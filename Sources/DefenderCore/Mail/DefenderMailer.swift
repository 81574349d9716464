/// Sends e-mail for Defender: the unlock e-mails of a locked account (``UnlockMailService``).
///
/// `DefenderMail`'s `SMTPMailer` speaks SMTP (`DEFENDER_SMTP_URL`); an app can plug in its own sender instead, for
/// instance a mail provider's HTTP API:
///
/// ```swift
/// struct PostmarkMailer: DefenderMailer {
///     func send(_ message: DefenderMailMessage) async throws {
///         try await postmark.send(from: message.from, to: message.to, subject: message.subject, text: message.text)
///     }
/// }
/// ```
///
/// A sender is called off the login path, one message at a time, under a timeout; a thrown error is logged
/// (without the message) and counted in `defender_unlock_mails_total{result="failed"}`.
public protocol DefenderMailer: Sendable {
    /// Sends one message; returns when the server accepted it.
    func send(_ message: DefenderMailMessage) async throws
}

/// A plain-text e-mail to one recipient.
public struct DefenderMailMessage: Sendable, Hashable {
    /// The sender's address (`DEFENDER_MAIL_FROM`).
    public var from: String
    /// The recipient's address.
    public var to: String
    /// The subject line (one line).
    public var subject: String
    /// The body, plain text; lines end with `\n`.
    public var text: String

    /// A message.
    public init(from: String, to: String, subject: String, text: String) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
    }
}
