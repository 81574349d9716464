/// Which store counts attempts.
public struct StoreKind: Hashable, Sendable, CustomStringConvertible {
    public let description: String
    private init(_ name: String) { description = name }
    /// The bounded in-memory store of this process.
    public static let memory = StoreKind("memory")
    /// A Redis server shared by every instance.
    public static let redis = StoreKind("redis")
    /// Every choice, for parsing and messages.
    public static let all: [StoreKind] = [.memory, .redis]
}

/// What logins do while a shared store is unreachable.
public struct StoreFailurePolicy: Hashable, Sendable, CustomStringConvertible {
    public let description: String
    private init(_ name: String) { description = name }
    /// Keep protecting with this instance's in-memory store until the shared store is back.
    public static let fallback = StoreFailurePolicy("fallback")
    /// Let logins through unprotected.
    public static let open = StoreFailurePolicy("open")
    /// Refuse logins (503) until the store is back.
    public static let closed = StoreFailurePolicy("closed")
    /// Every choice, for parsing and messages.
    public static let all: [StoreFailurePolicy] = [.fallback, .open, .closed]
}

/// What a successful login clears.
public struct SuccessReset: Hashable, Sendable, CustomStringConvertible {
    public let description: String
    private init(_ name: String) { description = name }
    /// The username's counter and block, and the IP's (not in AND mode): django-defender's behaviour, which
    /// lets an attacker with one valid account wipe his IP's failures between guesses at other accounts.
    public static let all = SuccessReset("all")
    /// The username's counter and block, and from the IP's counter only the failures this username made from
    /// this IP. The default.
    public static let own = SuccessReset("own")
    /// The username's counter and block only.
    public static let username = SuccessReset("username")
    /// Every choice, for parsing and messages.
    public static let choices: [SuccessReset] = [.all, .own, .username]
}

/// Where the username of a login request is read.
public struct UsernameSource: Hashable, Sendable, CustomStringConvertible {
    /// The form is `form`, `json`, or `path:NAME`.
    public let description: String
    /// For ``pathParameter(_:)``, the route parameter's name.
    public let parameter: String?
    private init(_ name: String, parameter: String? = nil) {
        description = parameter.map { "\(name):\($0)" } ?? name
        self.parameter = parameter
    }
    /// The body field ``DefenderConfiguration/usernameFormField`` (django-defender's default), read with the
    /// application's own content decoder for the request's media type (a form, JSON, multipart), so that it is
    /// the field the handler's decoder reads.
    public static let formField = UsernameSource("form")
    /// The same as ``formField``: the body is read with the decoder for its media type, JSON or not. Kept for the
    /// `json` setting.
    public static let jsonField = UsernameSource("json")
    /// A route path parameter, such as `:username` in `/users/:username/login`.
    public static func pathParameter(_ name: String) -> UsernameSource { UsernameSource("path", parameter: name) }
    /// No username, on purpose: the route counts its client's address alone (a login by one-time code, say). A
    /// route whose source reads nothing by mistake is reported instead (see ``Defender``'s
    /// `defender_logins_without_username_total`); this one is not.
    public static let ipOnly = UsernameSource("none")

    /// Whether this source reads a username at all (every one but ``ipOnly``).
    public var readsUsername: Bool { self != .ipOnly }

    /// Parses the environment form; django-defender's default dotted path means ``formField``.
    public init?(setting: String) {
        let value = setting.trimmingASCIIWhitespace()
        switch value.lowercased() {
        case "form", "defender.utils.username_from_request": self = .formField
        case "json": self = .jsonField
        default:
            guard value.lowercased().hasPrefix("path:"), value.count > 5 else { return nil }
            self = .pathParameter(String(value.dropFirst(5)))
        }
    }
}
