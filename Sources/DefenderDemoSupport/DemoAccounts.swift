import DefenderCore

/// The rules for the demo's accounts that both demos share.
public enum DemoAccounts {
    /// A username as stored and counted (Defender's normalisation), or `nil` when it is empty.
    public static func normalize(_ username: String) -> String? { DefenderKey.normalizeUsername(username) }

    /// The username `create-user` stores for `name`, after checking the name and password.
    /// - Throws: `DefenderError.invalidKey` for an empty name or password.
    public static func validate(name: String, password: String) throws(DefenderError) -> String {
        guard let username = normalize(name) else { throw DefenderError(.invalidKey, "the username is empty") }
        guard !username.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw DefenderError(.invalidKey, "the username holds a control character")
        }
        guard !password.isEmpty else { throw DefenderError(.invalidKey, "the password is empty") }
        return username
    }

    /// The address `create-user --email` stores, after checking it.
    /// - Throws: `DefenderError.invalidKey` for something that is not an e-mail address.
    public static func validate(email: String?) throws(DefenderError) -> String? {
        guard let email else { return nil }
        guard MailAddress.isValid(email) else { throw DefenderError(.invalidKey, "'\(email.prefix(64))' is not an e-mail address such as alice@example.com") }
        return email
    }

    /// What `create-user` prints.
    public static func createdMessage(name: String, admin: Bool) -> String { "Created user \(name)\(admin ? " (admin)" : "")." }

    /// The plain text checked against for unknown usernames, so that they cost the same time as known ones.
    public static let dummyPassword = "defender-demo-dummy"
}
