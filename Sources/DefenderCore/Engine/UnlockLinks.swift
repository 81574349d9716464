import Foundation

/// Issues and reads the tokens of unlock links (`/unlock/<token>`, see ``UnlockMailSettings``).
///
/// A token is `1.EXPIRY.NONCE.USERNAME.MAC`: the version, the expiry in seconds since 1970, 16 random bytes in hex
/// that name the lockout it was mailed for, the normalised username in unpadded base64url, and an HMAC-SHA-256
/// over the four, in unpadded base64url. The key is derived from each secret key for this use alone
/// (`HMAC(secret, "defender/unlock-link/v1")`), so neither a device cookie nor anything else signed with the secret
/// passes for a token. The signature only says that Defender wrote the token: that it is still one of the
/// username's pending links (unused, unexpired, none of its siblings used) is the store's to say, when it is redeemed.
public struct UnlockLinks: Sendable {
    /// The most links a store keeps pending per username (the oldest goes first): more than
    /// `DEFENDER_UNLOCK_MAILS_PER_DAY`'s default, so that every link of a day's e-mails works.
    public static let maximumPending = 10

    /// How long a link works after it is mailed.
    public let ttl: Duration
    /// The keys derived for unlock links: the first signs, all verify.
    private let keys: SigningKeys

    /// What a token says, once its signature and expiry are checked.
    public struct Token: Sendable, Hashable {
        /// The username it unlocks.
        public let username: DefenderKey
        /// The e-mail it was mailed in: one of the store's pending nonces for the username.
        public let nonce: String
        /// When it stops working.
        public let expires: Date
    }

    /// The links of a configuration, or `nil` when ``DefenderConfiguration/secretKeys`` is empty.
    public init?(configuration: DefenderConfiguration) {
        guard !configuration.secretKeys.isEmpty else { return nil }
        ttl = configuration.unlockMail.linkTTL
        keys = SigningKeys(configuration.secretKeys, purpose: "defender/unlock-link/v1")
    }

    /// A new token for `username`'s lockout, valid for ``ttl`` from `now`, and its nonce (for the store).
    public func issue(for username: DefenderKey, now: Date = Date()) -> (token: String, nonce: String) {
        let nonce = SigningKeys.randomHex()
        let expiry = Int64(now.timeIntervalSince1970) + ttl.components.seconds
        let user = Base64URL.encode(Array(username.value.utf8))
        let body = "1.\(expiry).\(nonce).\(user)"
        return ("\(body).\(Base64URL.encode(keys.sign(Data(body.utf8))))", nonce)
    }

    /// Why a token is refused.
    public enum Refusal: Error, Sendable, Hashable {
        /// Not a token Defender signed with a configured key: altered, forged, truncated or garbage.
        case invalid
        /// Signed, but past its expiry.
        case expired
    }

    /// The token's username and nonce when Defender signed it with one of the keys and it has not expired.
    /// Constant-time in the MAC.
    public func read(_ token: String, now: Date = Date()) -> Result<Token, Refusal> {
        guard token.utf8.count <= 1024 else { return .failure(.invalid) }
        let parts = token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].elementsEqual("1".utf8),
            parts[1].count <= 12, parts[1].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let expiry = Int64(String(decoding: parts[1], as: UTF8.self)),
            SigningKeys.isRandomHex(parts[2]),
            let user = Base64URL.decode(parts[3]), let name = String(validating: user, as: UTF8.self),
            let mac = Base64URL.decode(parts[4]), mac.count == 32
        else { return .failure(.invalid) }
        let body = Data(token.utf8.prefix(token.utf8.count - parts[4].count - 1))
        guard keys.verify(mac, of: body),
            let username = DefenderKey.username(name), username.value == name
        else { return .failure(.invalid) }
        let expires = Date(timeIntervalSince1970: Double(expiry))
        guard expires > now else { return .failure(.expired) }
        return .success(Token(username: username, nonce: String(decoding: parts[2], as: UTF8.self), expires: expires))
    }

    /// A moment as the unlock pages and e-mails write it: `2026-12-06 16:40 UTC`.
    package static func format(_ date: Date) -> String { UnlockMailText.format(date) }
}
