import DefenderCore
import Testing

/// `DEFENDER_SMTP_URL`: every accepted form, and a clear error that never quotes the password for the others.
struct SMTPServerURLTests {
    @Test func readsEveryPart() throws {
        let url = try SMTPServerURL("smtp://mailer%40example.com:p%3Ass@mail.example.com:587")
        #expect(url.host == "mail.example.com" && url.port == 587 && url.security == .startTLS)
        #expect(url.username == "mailer@example.com" && url.password?.value == "p:ss")
        #expect(url.description == "smtp://mailer@example.com:********@mail.example.com:587")
        #expect(!"\(url)".contains("p:ss") && !String(reflecting: url).contains("p:ss"))

        let implicit = try SMTPServerURL("SMTPS://[::1]")
        #expect(implicit.host == "::1" && implicit.port == 465 && implicit.security == .implicitTLS && implicit.username == nil)
        #expect(try SMTPServerURL("smtp://relay").port == 25)
        let plain = try SMTPServerURL("smtp://u:p@127.0.0.1:2525/?tls=none")
        #expect(plain.security == .none && plain.description.hasSuffix("?tls=none"))
        #expect(try SMTPServerURL("smtp://relay?ssl_ca_certs=%2Fetc%2Fca.pem").caCertificatesPath == "/etc/ca.pem")
        for loopback in ["localhost", "127.0.0.1", "127.1.2.3", "[::1]"] {
            #expect(try SMTPServerURL("smtp://\(loopback):2525?tls=none").security == .none, "\(loopback)")
        }
        // A '?' or '/' in an unencoded password belongs to the password, not to a query or a path.
        let odd = try SMTPServerURL("smtp://u:pa?ss/word@mail.example.com:587?ssl_ca_certs=/ca.pem")
        #expect(odd.password?.value == "pa?ss/word" && odd.host == "mail.example.com" && odd.caCertificatesPath == "/ca.pem")
    }

    @Test(arguments: [
        "mail.example.com", "http://mail.example.com", "smtp://", "smtp://:pw@", "smtp://host:0", "smtp://host:70000", "smtp://host:2x",
        "smtp://host/path", "smtp://host?tls=maybe", "smtps://host?tls=none", "smtp://host?verify=no", "smtp://ho st",
        "smtp://user:p%zzword@host", "smtp://[::1", "smtp://user:secret-pw@mail.example.com?tls=none",
        // tls=none only to loopback, with or without a password: the mail holds an unlock link.
        "smtp://mail.example.com?tls=none", "smtp://127.evil.example?tls=none", "smtp://127.0.0.1.example?tls=none",
        "smtp://1270.0.0.1?tls=none", "smtp://u:secret-pw@10.0.0.1:25?tls=none",
    ])
    func refusesWithAClearMessage(_ value: String) {
        do {
            _ = try SMTPServerURL(value)
            Issue.record("\(value) was accepted")
        } catch {
            #expect(error.setting == "DEFENDER_SMTP_URL")
            #expect(error.message.contains("smtp://[user:password@]host[:port]"))
            #expect(!error.message.contains("secret-pw") && !error.message.contains("p%zzword"))
        }
    }

    @Test func configurationNeedsSenderAndSecret() throws {
        let base = ["DEFENDER_SMTP_URL": "smtp://relay:25"]
        #expect(throws: DefenderError.self) { try DefenderConfiguration.fromEnvironment(base) }
        let secret = String(repeating: "k", count: 32)
        do {
            _ = try DefenderConfiguration.fromEnvironment(base.merging(["DEFENDER_MAIL_FROM": "security@example.com"]) { $1 })
            Issue.record("accepted without a secret key")
        } catch {
            #expect(error.setting == "DEFENDER_SECRET_KEY")
        }
        let config = try DefenderConfiguration.fromEnvironment(base.merging([
            "DEFENDER_MAIL_FROM": "security@example.com", "DEFENDER_SECRET_KEY": secret, "DEFENDER_PUBLIC_URL": "https://example.com/app",
            "DEFENDER_UNLOCK_LINK_TTL": "600", "DEFENDER_UNLOCK_MAILS_PER_DAY": "5",
        ]) { $1 })
        #expect(config.unlockMail.smtpURL?.host == "relay" && config.unlockMail.mailFrom == "security@example.com")
        #expect(config.unlockMail.publicURL == "https://example.com/app" && config.unlockMail.linkTTL == .seconds(600))
        #expect(config.unlockMail.mailsPerDay == 5)
        for (name, value) in [
            ("DEFENDER_MAIL_FROM", "not an address"), ("DEFENDER_MAIL_FROM", "a@b\r\nBcc: x@y"), ("DEFENDER_PUBLIC_URL", "example.com"),
            ("DEFENDER_PUBLIC_URL", "https://example.com/?x=1"), ("DEFENDER_UNLOCK_LINK_TTL", "10"), ("DEFENDER_UNLOCK_MAILS_PER_DAY", "0"),
        ] {
            do {
                _ = try DefenderConfiguration.fromEnvironment([name: value, "DEFENDER_SECRET_KEY": secret])
                Issue.record("\(name)=\(value) was accepted")
            } catch {
                #expect(error.setting == name)
            }
        }
    }
}
