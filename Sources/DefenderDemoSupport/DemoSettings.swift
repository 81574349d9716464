import DefenderCore
import Foundation

/// The demo's own environment variables (besides every `DEFENDER_*` setting).
public struct DemoSettings: Sendable {
    /// Where the demo keeps users and sessions.
    public enum Database: Sendable, Equatable {
        case sqliteFile(String)
        case sqliteMemory
        /// A `postgres://user:password@host:port/database` URL (kept out of logs and errors).
        case postgres(String)
    }

    /// `DATABASE_URL`: `sqlite:///absolute/path.sqlite`, `sqlite::memory:` for a throw-away database, or
    /// `postgres://user:password@host:port/database`.
    public var database: Database = .sqliteFile("defender-demo.sqlite")
    /// `DEMO_BCRYPT_COST`: the cost of hashes `create-user` writes and of the dummy hash for unknown users.
    public var bcryptCost: Int = 12
    /// `DEFENDER_NOTIFY_WEBHOOK_URL`: where block events are POSTed as JSON (none by default).
    public var webhookURL: String? {
        get { webhookURLText?.value }
        set { webhookURLText = newValue.map { ConcealedText($0, concealing: .whole) } }
    }
    /// ``webhookURL``'s storage: it dumps and prints as `***` (a chat service's webhook URL is its secret).
    var webhookURLText: ConcealedText?
    /// `DEFENDER_NOTIFY_WEBHOOK_SECRET`: signs each webhook body (`X-Defender-Signature-256: sha256=…`, an
    /// HMAC-SHA-256 of the body); unsigned when unset.
    public var webhookSecret: DefenderSecret?
    /// `DEMO_PASSWORD_HASH`: `bcrypt` (default) or `sha256`, one salted SHA-256 — insecure, for load tests only.
    public var sha256Passwords = false
    /// `DEMO_PROTECTION`: `off` serves the logins without Defender (the load tests' baseline); `bare403` answers
    /// every login POST `403` after finding the username by a scan of the body, and nothing else (the load tests'
    /// floor for the lockout path).
    public var protection = true
    /// `DEMO_PROTECTION=bare403`.
    public var bare403 = false
    /// `DEMO_PROTECTION=floor`: no Defender, but what any protection costs the framework before its own work — a
    /// middleware in front of the login routes that resolves the client address and decodes the credentials once
    /// more — then the plain handler (the load tests' floor for the success path).
    public var floor = false
    /// Defender's settings (`DEFENDER_*`).
    public var defender: DefenderConfiguration

    /// Reads the demo's settings.
    /// - Throws: ``DefenderError`` naming the variable and the accepted forms.
    public static func fromEnvironment(_ environment: [String: String]) throws(DefenderError) -> DemoSettings {
        // The demo's own `DEFENDER_*` names are not Defender settings: kept out of the unrecognized names.
        let demoNames: Set = ["DEFENDER_NOTIFY_WEBHOOK_URL", "DEFENDER_NOTIFY_WEBHOOK_SECRET"]
        var settings = DemoSettings(defender: try .fromEnvironment(environment.filter { !demoNames.contains($0.key) }))
        if let raw = environment["DATABASE_URL"], !raw.isEmpty {
            settings.database = try parseDatabaseURL(raw)
        }
        if let raw = environment["DEFENDER_NOTIFY_WEBHOOK_URL"], !raw.isEmpty {
            guard let url = URL(string: raw), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                throw DefenderError(.invalidConfiguration, "is not an http:// or https:// URL", setting: "DEFENDER_NOTIFY_WEBHOOK_URL")
            }
            settings.webhookURL = raw
        }
        if let raw = environment["DEFENDER_NOTIFY_WEBHOOK_SECRET"], !raw.isEmpty {
            guard settings.webhookURL != nil else {
                throw DefenderError(.invalidConfiguration, "is set without DEFENDER_NOTIFY_WEBHOOK_URL: there is nothing to sign", setting: "DEFENDER_NOTIFY_WEBHOOK_SECRET")
            }
            guard raw.utf8.count >= 16 else {
                throw DefenderError(.invalidConfiguration, "must be at least 16 characters (a random string; `openssl rand -hex 32` makes one)", setting: "DEFENDER_NOTIFY_WEBHOOK_SECRET")
            }
            settings.webhookSecret = DefenderSecret(raw)
        }
        if let raw = environment["DEMO_PASSWORD_HASH"], !raw.isEmpty {
            switch raw.lowercased() {
            case "bcrypt": settings.sha256Passwords = false
            case "sha256": settings.sha256Passwords = true
            default: throw DefenderError(.invalidConfiguration, "'\(raw.prefix(20))' is not bcrypt or sha256", setting: "DEMO_PASSWORD_HASH")
            }
        }
        if let raw = environment["DEMO_PROTECTION"], !raw.isEmpty {
            switch raw.lowercased() {
            case "on", "true", "1": settings.protection = true
            case "off", "false", "0": settings.protection = false
            case "bare403":
                settings.protection = false
                settings.bare403 = true
            case "floor":
                settings.protection = false
                settings.floor = true
            default: throw DefenderError(.invalidConfiguration, "'\(raw.prefix(20))' is not on, off, floor or bare403", setting: "DEMO_PROTECTION")
            }
        }
        if let raw = environment["DEMO_BCRYPT_COST"], !raw.isEmpty {
            guard let cost = Int(raw), (4...31).contains(cost) else {
                throw DefenderError(.invalidConfiguration, "'\(raw)' is not a bcrypt cost; use a whole number from 4 to 31", setting: "DEMO_BCRYPT_COST")
            }
            settings.bcryptCost = cost
        }
        return settings
    }

    static func parseDatabaseURL(_ raw: String) throws(DefenderError) -> Database {
        if raw == "sqlite::memory:" { return .sqliteMemory }
        if raw.hasPrefix("sqlite://") {
            let path = String(raw.dropFirst("sqlite://".count))
            guard path.hasPrefix("/"), path.count > 1 else {
                throw DefenderError(.invalidConfiguration, "'\(raw)' has no absolute path; use sqlite:///srv/app/db.sqlite (three slashes)", setting: "DATABASE_URL")
            }
            return .sqliteFile(path)
        }
        if raw.hasPrefix("postgres://") || raw.hasPrefix("postgresql://") { return .postgres(raw) }
        // Only the scheme is echoed: the rest of a URL may hold a password.
        let scheme = raw.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        throw DefenderError(.invalidConfiguration, "the scheme '\(scheme.prefix(20))' is not supported; use sqlite:///absolute/path.sqlite or postgres://user:password@host/db", setting: "DATABASE_URL")
    }
}

extension DemoSettings.Database: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The database, with a PostgreSQL URL's password hidden.
    public var description: String {
        switch self {
        case .sqliteFile(let path): "sqlite://\(path)"
        case .sqliteMemory: "sqlite::memory:"
        case .postgres(let url): URLRedaction.redact(url)
        }
    }

    /// The same as ``description``.
    public var debugDescription: String { description }

    /// A mirror that shows ``description`` only, so that `dump` never shows a PostgreSQL password.
    public var customMirror: Mirror { Mirror(self, children: ["database": description], displayStyle: .enum) }
}
