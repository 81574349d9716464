import DefenderCore
import DefenderMail

/// Both demos' unlock e-mails: on when `DEFENDER_SMTP_URL` is set, sent through `SMTPMailer` to the address
/// `create-user --email` stored.
public enum DemoUnlockMail {
    /// The service that mails unlock links, or `nil` when `DEFENDER_SMTP_URL` is not set.
    /// - Parameters:
    ///   - defender: the demo's engine.
    ///   - publicURL: the address the demo listens on (`DEFENDER_PUBLIC_URL` wins), read when a mail is written.
    ///   - emailAddress: the account's address.
    public static func service(
        defender: Defender, publicURL: @escaping @Sendable () -> String, emailAddress: @escaping UnlockMailService.AddressLookup
    ) throws -> UnlockMailService? {
        guard let server = defender.configuration.unlockMail.smtpURL else { return nil }
        return try UnlockMailService(
            defender: defender, mailer: SMTPMailer(server: server, timeout: .seconds(10)), publicURL: publicURL(), emailAddress: emailAddress)
    }
}
