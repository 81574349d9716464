import DefenderCore
import Foundation
import Mustache

/// The pages Defender renders itself (the lockout page, the admin page), as swift-mustache templates: the same in every framework integration.
///
/// The standard ones ship as resources of this module (`Templates/*.mustache`); an app replaces any of them with
/// its own source. Every `{{value}}` is escaped for HTML byte by byte (swift-mustache's own escaping compares
/// grapheme clusters, which a combining mark glued to a `<` or `"` gets past), so nothing a client sent can become
/// markup.
/// (`LOCKOUT_TEMPLATE`, a view of the app's own renderer, still takes precedence over the lockout page.)
public struct DefenderTemplates: Sendable {
    /// The lockout page. Its context: `message` (django-defender's words), `temporary` and `permanent`,
    /// `retry_after_seconds`, and django-defender's `cooloff_time_seconds`, `cooloff_time_minutes` and
    /// `failure_limit`.
    public let lockout: MustacheTemplate
    /// The admin page (`DefenderFluent`'s `DefenderAdmin`). Its context: `base` (where the admin is mounted),
    /// `csrf`, `admin`, `notice`, `blockSections` (`title`, `column`, `rows` of `key`, `keyKind`, `timeLeft`,
    /// `kind`, `lockouts`; `more`), `denylist` (`entries` of `network`, `note`, `added`), the filter's `filterIP`,
    /// `filterUsername` and `validOptions`, `attempts` (`time`, `username`, `ip`, `path`, `result`, `userAgent`) and
    /// `older`. Every form must post `csrf` back.
    public let admin: MustacheTemplate
    /// The unlock page (`/unlock/<token>`). Its context: `title`, `username`, `expires`, `loginPath`, and one of
    /// `confirm` (a valid link: the page's form posts back to the same address), `unlocked`, `used`, `expired`,
    /// `invalid` or `unavailable`.
    public let unlock: MustacheTemplate
    /// The lockout answers' bodies rendered from these templates, reused while their inputs are the same.
    package let lockoutBodies = LockoutBodies()

    /// The standard templates, read from this module's resources.
    /// - Throws: `DefenderError` with `invalidConfiguration` when the resources are missing
    ///   (an executable copied without its `.resources` bundle).
    public static func standard() throws(DefenderError) -> DefenderTemplates {
        switch standardTemplates {
        case .success(let templates): return templates
        case .failure(let error): throw error
        }
    }

    /// Replaces the templates given; the others stay standard.
    /// - Parameters:
    ///   - lockout: Mustache source of the lockout page.
    ///   - admin: Mustache source of the admin page.
    ///   - unlock: Mustache source of the unlock page.
    /// - Throws: `DefenderError` with `invalidConfiguration` when a template does not parse,
    ///   or when the standard ones cannot be read.
    public init(lockout: String? = nil, admin: String? = nil, unlock: String? = nil) throws(DefenderError) {
        let standard = try Self.standard()
        self.lockout = try lockout.map { source throws(DefenderError) in try Self.parse(source, name: "lockout") } ?? standard.lockout
        self.admin = try admin.map { source throws(DefenderError) in try Self.parse(source, name: "admin") } ?? standard.admin
        self.unlock = try unlock.map { source throws(DefenderError) in try Self.parse(source, name: "unlock") } ?? standard.unlock
    }

    private init(lockout: MustacheTemplate, admin: MustacheTemplate, unlock: MustacheTemplate) {
        self.lockout = lockout
        self.admin = admin
        self.unlock = unlock
    }

    private static let standardTemplates: Result<DefenderTemplates, DefenderError> = Result { () throws(DefenderError) in
        DefenderTemplates(
            lockout: try parse(try resource("lockout"), name: "lockout"), admin: try parse(try resource("admin"), name: "admin"),
            unlock: try parse(try resource("unlock"), name: "unlock"))
    }

    private static func resource(_ name: String) throws(DefenderError) -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: "mustache", subdirectory: "Templates"),
            let source = try? String(contentsOf: url, encoding: .utf8)
        else {
            throw DefenderError(
                .invalidConfiguration,
                "Defender's template '\(name).mustache' was not found: deploy the executable with its .resources bundles "
                    + "(defender_DefenderHTTP.resources)")
        }
        return source
    }

    private static func parse(_ source: String, name: String) throws(DefenderError) -> MustacheTemplate {
        DefenderHTMLContentType.registered
        do {
            // Every template, the app's too, escapes with Defender's byte-wise HTML escaping (see `HTMLEscaping`).
            return try MustacheTemplate(string: DefenderHTMLContentType.pragma + source)
        } catch {
            throw DefenderError(.invalidConfiguration, "the \(name) template does not parse: \(error)")
        }
    }
}

/// What the lockout page is rendered with (Mustache reads the properties by name).
struct LockoutPageContext {
    let message: String
    let temporary: Bool
    let permanent: Bool
    let retry_after_seconds: Int
    let cooloff_time_seconds: Int
    let cooloff_time_minutes: Double
    let failure_limit: Int
}
