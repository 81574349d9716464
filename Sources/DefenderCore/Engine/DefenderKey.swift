import Crypto
import Foundation

/// What is counted and blocked: a client IP (or IPv6 group), a normalised username, or — for a client in a shared
/// range — the pair of the two.
public struct DefenderKey: Hashable, Sendable, CustomStringConvertible {
    /// The two dimensions django-defender counts, and the pair that stands for the IP of a shared address.
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        /// A client address, or an IPv6 prefix group.
        case ip
        /// A normalised username.
        case username
        /// A client address in a shared range (`DEFENDER_SHARED_IP_RANGES`) with one username: the IP dimension of
        /// such a client, so that an attacker behind a carrier-grade NAT locks the usernames he attacks from there,
        /// never the address that thousands of others share. Its value is `ADDRESS|USERNAME`.
        case pair
        /// A browser the account's owner logged in from, named by its device cookie (see ``DeviceCookies``): the
        /// username dimension of a trusted client, counted and locked apart from the username. Its value is the
        /// cookie's random device identifier.
        case device

        /// Whether keys of this kind count in the username dimension (a username, or the device a trusted client
        /// counts on instead) rather than the IP dimension (an address, or a shared address's pair).
        public var isUsernameDimension: Bool { self == .username || self == .device }
    }

    /// The dimension.
    public let kind: Kind
    /// The normalised value: ``ClientAddress/key`` or ``normalizeUsername(_:)``'s result.
    public let value: String

    /// A key for a value that is already normalised.
    public init(kind: Kind, normalizedValue: String) {
        self.kind = kind
        self.value = normalizedValue
    }

    /// The key of a client address.
    public static func ip(_ client: ClientAddress) -> DefenderKey {
        DefenderKey(kind: .ip, normalizedValue: client.key)
    }

    /// The pair key of a shared address and a username: `ADDRESS|USERNAME` (an address never holds a `|`).
    public static func pair(address: DefenderKey, username: DefenderKey) -> DefenderKey {
        DefenderKey(kind: .pair, normalizedValue: address.value + "|" + username.value)
    }

    /// For a pair key, the address it stands for (an operator's block of that address still refuses it, and
    /// spraying from the address is counted on it); `nil` for other keys.
    public var pairAddress: DefenderKey? {
        pairParts.map { DefenderKey(kind: .ip, normalizedValue: $0.address) }
    }

    /// For a pair key, its username (normalised); `nil` for other keys.
    public var pairUsername: String? { pairParts?.username }

    /// A pair's two parts, split at its first `|` byte. Bytes, not characters: a username that starts with a
    /// combining mark joins the `|` into one character, and a character-wise search would miss it.
    private var pairParts: (address: String, username: String)? {
        guard kind == .pair, let bar = value.utf8.firstIndex(of: UInt8(ascii: "|")) else { return nil }
        let utf8 = value.utf8
        return (String(decoding: utf8[..<bar], as: UTF8.self), String(decoding: utf8[utf8.index(after: bar)...], as: UTF8.self))
    }

    /// The key of a submitted username, or `nil` when it is empty (empty usernames are never counted).
    public static func username(_ submitted: String) -> DefenderKey? {
        normalizeUsername(submitted).map { DefenderKey(kind: .username, normalizedValue: $0) }
    }

    /// Normalises (NFKC), trims white space and lower-cases; names longer than 255 bytes become `sha256:` and a
    /// hex digest.
    ///
    /// django-defender 0.9.8 only lower-cased, so `"alice "` escaped the lock on `"alice"`; upstream later
    /// trimmed too. The digest keeps keys short without letting two long names share a counter.
    /// - Returns: the key, or `nil` for an empty or all-space username.
    public static func normalizeUsername(_ submitted: String) -> String? {
        if let ascii = normalizeASCII(submitted) { return ascii.isEmpty ? nil : ascii }
        // Compatibility-normalised (NFKC, as Django's `normalize_username`), then lower-cased: the spellings an app
        // may take for one account — `é` precomposed or `e` and a combining accent, fullwidth `ａｌｉｃｅ` — share
        // one counter, in every store (Redis compares bytes, Swift strings compare canonically).
        let trimmed = submitted.precomposedStringWithCompatibilityMapping.trimmingCharacters(in: .whitespacesAndNewlinesAndControls)
        if trimmed.isEmpty { return nil }
        let lowered = trimmed.lowercased()
        if lowered.utf8.count <= 255 { return lowered }
        let digest = SHA256.hash(data: Array(lowered.utf8))
        return "sha256:" + digest.hexEncoded
    }

    /// The fast path for the usual all-ASCII name of at most 255 bytes: the same result as the Unicode path
    /// (ASCII white space is all control or space; ASCII lower-casing is A–Z only), without grapheme breaking.
    /// `nil` when the name is not that.
    static func normalizeASCII(_ submitted: String) -> String? {
        let utf8 = submitted.utf8
        guard utf8.count <= 255 + 64 else { return nil }
        return utf8.withContiguousStorageIfAvailable { bytes -> String? in
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
            var start = 0
            var end = bytes.count
            // Control characters (0x00–0x1F, 0x7F) and the space.
            func trimmed(_ byte: UInt8) -> Bool { byte <= 0x20 || byte == 0x7F }
            while start < end, trimmed(bytes[start]) { start += 1 }
            while end > start, trimmed(bytes[end - 1]) { end -= 1 }
            guard end - start <= 255 else { return nil }
            return String(unsafeUninitializedCapacity: end - start) { buffer in
                for index in start..<end {
                    let byte = bytes[index]
                    buffer[index - start] = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
                }
                return end - start
            }
        } ?? nil
    }

    /// `ip:VALUE`, `username:VALUE` or `pair:ADDRESS|USERNAME`.
    public var description: String { "\(kind.rawValue):\(value)" }
}

extension StringProtocol where SubSequence == Substring {
    /// Trims from both ends every character of `set` (no Foundation `CharacterSet` needed).
    func trimmingCharacters(in set: CharacterClass) -> Substring {
        var start = startIndex
        var end = endIndex
        while start < end, set.contains(self[start]) { start = index(after: start) }
        while end > start, set.contains(self[index(before: end)]) { end = index(before: end) }
        return self[start..<end]
    }
}

/// A test on characters, so trimming needs no Foundation `CharacterSet`.
struct CharacterClass: Sendable {
    let contains: @Sendable (Character) -> Bool
    /// Unicode white space, line breaks and control characters.
    static let whitespacesAndNewlinesAndControls = CharacterClass { character in
        character.isWhitespace || character.isNewline
            || character.unicodeScalars.allSatisfy { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format }
    }
}
