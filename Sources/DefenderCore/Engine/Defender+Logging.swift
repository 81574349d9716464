import Logging

/// What the engine writes in its log lines: addresses and usernames redacted unless
/// ``DefenderConfiguration/redactLogs`` is off.
extension Defender {
    /// Log metadata for an attempt, redacted unless ``DefenderConfiguration/redactLogs`` is off.
    func metadata(_ attempt: LoginAttempt) -> Logger.Metadata {
        ["ip": shown(attempt.ip.key), "username": shown(attempt.usernameKey?.value ?? "")]
    }

    /// A value for a log line: `********` when logs are redacted.
    func shown(_ value: String) -> Logger.MetadataValue {
        configuration.redactLogs ? "********" : .string(value)
    }
}
