import Crypto

/// What is counted and blocked: a client IP (or IPv6 group) or a normalised username.
public struct DefenderKey: Hashable, Sendable, CustomStringConvertible {
    /// The two dimensions django-defender counts.
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        /// A client address, or an IPv6 prefix group.
        case ip
        /// A normalised username.
        case username
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

    /// The key of a submitted username, or `nil` when it is empty (empty usernames are never counted).
    public static func username(_ submitted: String) -> DefenderKey? {
        normalizeUsername(submitted).map { DefenderKey(kind: .username, normalizedValue: $0) }
    }

    /// Trims white space and lower-cases; names longer than 255 bytes become `sha256:` and a hex digest.
    ///
    /// django-defender 0.9.8 only lower-cased, so `"alice "` escaped the lock on `"alice"`; upstream later
    /// trimmed too. The digest keeps keys short without letting two long names share a counter.
    /// - Returns: the key, or `nil` for an empty or all-space username.
    public static func normalizeUsername(_ submitted: String) -> String? {
        let trimmed = submitted.trimmingCharacters(in: .whitespacesAndNewlinesAndControls)
        if trimmed.isEmpty { return nil }
        let lowered = trimmed.lowercased()
        if lowered.utf8.count <= 255 { return lowered }
        let digest = SHA256.hash(data: Array(lowered.utf8))
        return "sha256:" + digest.hexEncoded
    }

    /// `ip:VALUE` or `username:VALUE`.
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
