import DefenderCore

/// The rules for the demo's accounts that both demos share.
public enum DemoAccounts {
    /// A username as stored and counted (Defender's normalisation), or `nil` when it is empty.
    public static func normalize(_ username: String) -> String? { DefenderKey.normalizeUsername(username) }

    /// The username `create-user` stores for `name`, after checking the name and password.
    /// - Throws: `DefenderError.invalidKey` for an empty name or password.
    public static func validate(name: String, password: String) throws(DefenderError) -> String {
        guard let username = normalize(name) else { throw DefenderError(.invalidKey, "the username is empty") }
        guard !password.isEmpty else { throw DefenderError(.invalidKey, "the password is empty") }
        return username
    }

    /// What `create-user` prints.
    public static func createdMessage(name: String, admin: Bool) -> String { "Created user \(name)\(admin ? " (admin)" : "")." }

    /// The plain text checked against for unknown usernames, so that they cost the same time as known ones.
    public static let dummyPassword = "defender-demo-dummy"
}
