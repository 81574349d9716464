/// The settings of unlock e-mails: when a username is locked automatically, the account's owner is mailed a
/// signed, single-use link that lifts that lock (and nothing else).
///
/// On when ``smtpURL`` is set (which needs ``DefenderConfiguration/secretKeys`` and ``mailFrom``) or when an app
/// plugs in its own ``DefenderMailer``.
public struct UnlockMailSettings: Sendable, Equatable {
    /// `DEFENDER_SMTP_URL`: the mail server, `smtp://[user:password@]host[:port]` (STARTTLS when the server offers
    /// it, and required before a password is sent), `smtps://…` (TLS from the first byte); `?tls=none` (tests only)
    /// and `?ssl_ca_certs=PATH` (a PEM bundle to trust instead of the system's).
    public var smtpURL: SMTPServerURL? = nil
    /// `DEFENDER_MAIL_FROM`: the sender's address, such as `security@example.com`.
    public var mailFrom: String? = nil
    /// `DEFENDER_PUBLIC_URL`: the site's address as users reach it (`https://example.com`), the base of the link;
    /// `nil`: the app's own listening address.
    public var publicURL: String? = nil
    /// `DEFENDER_UNLOCK_LINK_TTL` (seconds): how long a link works.
    public var linkTTL: Duration = .seconds(3600)
    /// `DEFENDER_UNLOCK_MAILS_PER_DAY`: the most unlock e-mails one account receives in a day, so that nobody can
    /// flood its owner by locking it again and again.
    public var mailsPerDay: Int = 3

    /// Unlock e-mails with the defaults (off).
    public init() {}
}

extension DefenderConfiguration {
    /// Reads the unlock e-mail settings.
    static func readUnlockMail(_ reader: EnvironmentReader, into config: inout DefenderConfiguration) throws(DefenderError) {
        if let value = reader.string("DEFENDER_SMTP_URL") { config.unlockMail.smtpURL = try SMTPServerURL(value) }
        config.unlockMail.mailFrom = reader.string("DEFENDER_MAIL_FROM")
        config.unlockMail.publicURL = reader.string("DEFENDER_PUBLIC_URL")
        if let value = try reader.seconds("DEFENDER_UNLOCK_LINK_TTL") { config.unlockMail.linkTTL = value }
        if let value = try reader.count("DEFENDER_UNLOCK_MAILS_PER_DAY") { config.unlockMail.mailsPerDay = value }
    }

    /// Checks the unlock e-mail settings.
    func validateUnlockMail() throws(DefenderError) {
        func fail(_ setting: String, _ message: String) -> DefenderError {
            DefenderError(.invalidConfiguration, message, setting: setting)
        }
        let settings = unlockMail
        if let from = settings.mailFrom, !MailAddress.isValid(from) {
            throw fail("DEFENDER_MAIL_FROM", "'\(from.prefix(64))' is not an e-mail address such as security@example.com")
        }
        if settings.smtpURL != nil {
            if settings.mailFrom == nil { throw fail("DEFENDER_MAIL_FROM", "is required with DEFENDER_SMTP_URL: the unlock e-mails' sender") }
            if secretKeys.isEmpty { throw fail("DEFENDER_SECRET_KEY", "is required with DEFENDER_SMTP_URL: it signs the unlock links") }
        }
        if let url = settings.publicURL {
            let lowered = url.lowercased()
            guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://"), url.count > 8, url.count <= 512,
                !url.contains(where: { $0 == "?" || $0 == "#" || $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 } ?? false })
            else {
                throw fail("DEFENDER_PUBLIC_URL", "must be the site's address such as https://example.com or https://example.com/app (no query)")
            }
        }
        if settings.linkTTL < .seconds(60) || settings.linkTTL > .seconds(7 * 86400) {
            throw fail("DEFENDER_UNLOCK_LINK_TTL", "must be a whole number of seconds from 60 to \(7 * 86400) (a week)")
        }
        if !(1...100).contains(settings.mailsPerDay) {
            throw fail("DEFENDER_UNLOCK_MAILS_PER_DAY", "must be a whole number from 1 to 100")
        }
    }
}

/// Checks of e-mail addresses, strict enough that an address can go into a header or an SMTP command as it is.
package enum MailAddress {
    /// Whether `address` is `local@domain` with no space, control character, angle bracket or quote, at most 254
    /// bytes (RFC 5321's limit).
    package static func isValid(_ address: String) -> Bool {
        let bytes = Array(address.utf8)
        guard bytes.count <= 254, let at = bytes.lastIndex(of: UInt8(ascii: "@")), at > 0, at < bytes.count - 1 else { return false }
        let forbidden: Set<UInt8> = [UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "\""), UInt8(ascii: "("), UInt8(ascii: ")"),
            UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: "\\"), UInt8(ascii: "["), UInt8(ascii: "]")]
        guard bytes.allSatisfy({ $0 > 0x20 && $0 != 0x7F && !forbidden.contains($0) }) else { return false }
        let domain = bytes[(at + 1)...]
        return !domain.contains(UInt8(ascii: "@")) && !domain.hasPrefixDot && domain.last != UInt8(ascii: ".")
    }
}

extension ArraySlice<UInt8> {
    fileprivate var hasPrefixDot: Bool { first == UInt8(ascii: ".") }
}
