import DefenderCore
import Foundation
import HTTPTypes
import Logging
import Mustache

/// The pages of an unlock link, `/unlock/<token>`, the same in every framework integration.
///
/// `GET` only reads the token and shows a page with a button: mail scanners and link previews fetch links, and a
/// fetch must not unlock anything. The button's `POST` (to the same address) redeems the token: the username's
/// lock and counter are lifted, once (`Defender.redeemUnlockToken(_:)`). A used, expired, altered or
/// unknown token gets a page that says so: `410 Gone` for a used or expired one, `400` for anything else; `403`
/// while an operator has blocked the username (the link cannot lift that). Every
/// answer says `Cache-Control: no-store` and `Referrer-Policy: no-referrer`, so the token stays out of caches and
/// out of other sites' logs. The form needs no CSRF token: the unlock token in its address is the secret.
public struct UnlockHandler: Sendable {
    /// The engine whose tokens are redeemed.
    public let defender: Defender
    /// The unlock page's template.
    public let templates: DefenderTemplates
    /// Where the page sends a user who was unlocked.
    public let loginPath: String

    /// A handler.
    /// - Parameters:
    ///   - defender: the engine.
    ///   - templates: the pages (``DefenderTemplates/unlock``).
    ///   - loginPath: the sign-in page the "unlocked" page links to.
    public init(defender: Defender, templates: DefenderTemplates, loginPath: String = "/login") {
        self.defender = defender
        self.templates = templates
        self.loginPath = loginPath
    }

    /// The answer to `GET` (`redeem` false) or `POST` (`redeem` true) of `/unlock/<token>`.
    package func respond(token: String, redeem: Bool) async -> HTTPAnswer {
        guard defender.unlockLinks != nil else { return page(.invalid, status: 404) }
        guard redeem else {
            switch defender.inspectUnlockToken(token) {
            case .success(let link): return page(.confirm, username: link.username.value, expires: link.expires)
            case .failure(.expired): return page(.expired, status: 410)
            case .failure(.invalid): return page(.invalid, status: 400)
            }
        }
        do {
            switch try await defender.redeemUnlockToken(token) {
            case .unlocked(let username): return page(.unlocked, username: username)
            case .used: return page(.used, status: 410)
            case .expired: return page(.expired, status: 410)
            case .invalid: return page(.invalid, status: 400)
            case .blockedByOperator: return page(.blockedByOperator, status: 403)
            }
        } catch {
            defender.log(.error, "an unlock link could not be redeemed", metadata: ["error": "\(error)"], budget: defender.unlockFailureLines)
            var answer = page(.unavailable, status: 503)
            answer.fields[.retryAfter] = "60"
            return answer
        }
    }

    private enum State: String {
        case confirm, unlocked, used, expired, invalid, unavailable, blockedByOperator

        var title: String {
            switch self {
            case .confirm: "Unlock your account"
            case .unlocked: "Account unlocked"
            case .used: "Link already used"
            case .expired: "Link expired"
            case .invalid: "Invalid unlock link"
            case .unavailable: "Try again shortly"
            case .blockedByOperator: "Locked by an administrator"
            }
        }
    }

    private func page(_ state: State, status: Int = 200, username: String = "", expires: Date? = nil) -> HTTPAnswer {
        let context: [String: Any] = [
            "title": state.title, "username": username, "loginPath": loginPath,
            "expires": expires.map { UnlockLinks.format($0) } ?? "", state.rawValue: true,
        ]
        var fields = HTTPFields()
        fields[.contentType] = HTTPAnswer.html
        fields[.cacheControl] = "no-store"
        fields[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return HTTPAnswer(status: status, fields: fields, body: Array(templates.unlock.render(context).utf8))
    }
}
