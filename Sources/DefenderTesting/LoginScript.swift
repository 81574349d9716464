import DefenderCore

/// What happened to one login in a scripted sequence.
public enum LoginResult: Sendable, Hashable, CustomStringConvertible {
    /// The password was checked and was wrong: an ordinary failure response.
    case failure
    /// The password was checked, was wrong, and this failure crossed a limit: the lockout response.
    case lockedOut
    /// Refused before the password check: the lockout response, nothing counted.
    case refused
    /// The password was checked and was right.
    case success

    public var description: String {
        switch self {
        case .failure: "F"
        case .lockedOut: "L"
        case .refused: "R"
        case .success: "S"
        }
    }
}

/// One scripted login: who, from where, with the right password or not, and what must happen.
public struct LoginStep: Sendable, CustomStringConvertible {
    /// The client address.
    public var ip: String
    /// The submitted username.
    public var username: String?
    /// Whether the password is right.
    public var correctPassword: Bool
    /// What the engine must answer.
    public var expected: LoginResult

    /// A step: a login from an address for a username, and the answer expected.
    public init(_ ip: String, _ username: String?, correct: Bool = false, expect expected: LoginResult) {
        self.ip = ip
        self.username = username
        self.correctPassword = correct
        self.expected = expected
    }

    public var description: String { "\(username ?? "∅")@\(ip)\(correctPassword ? "+pw" : "") → \(expected)" }
}

extension Defender {
    /// Runs one login through the engine the way an integration does: check, then record the outcome.
    public func login(ip: String, username: String?, correctPassword: Bool) async throws -> LoginResult {
        try await login(ip: ip, username: username, deviceCookie: nil, correctPassword: correctPassword)
    }

    /// The same login from a client that carries a device cookie (`nil`: none).
    public func login(ip: String, username: String?, deviceCookie: String?, correctPassword: Bool) async throws -> LoginResult {
        guard let address = IPAddress(ip) else { throw DefenderError(.invalidKey, "bad test IP \(ip)") }
        switch try await check(ip: resolver.client(address), username: username, deviceCookieValues: deviceCookie.map { [$0] } ?? []) {
        case .locked:
            return .refused
        case .allowed(let attempt):
            if correctPassword {
                try await recordSuccess(attempt)
                return .success
            }
            return try await recordFailure(attempt) == nil ? .failure : .lockedOut
        }
    }

    /// Runs a script and returns what each step got, to compare with the expected results.
    public func run(_ steps: [LoginStep]) async throws -> [LoginResult] {
        var results: [LoginResult] = []
        for step in steps {
            results.append(try await login(ip: step.ip, username: step.username, correctPassword: step.correctPassword))
        }
        return results
    }
}
