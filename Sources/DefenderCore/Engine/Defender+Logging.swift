import Logging

/// What the engine writes in its log lines: addresses and usernames redacted unless
/// ``DefenderConfiguration/redactLogs`` is off.
extension Defender {
    /// Log metadata for an attempt, redacted unless ``DefenderConfiguration/redactLogs`` is off.
    func metadata(_ attempt: LoginAttempt) -> Logger.Metadata {
        ["ip": shown(attempt.ip.key), "username": shown(attempt.usernameKey?.value ?? "")]
    }

    /// Writes a line about an attempt within `budget`, saying how many like it were dropped before it.
    func log(_ level: Logger.Level, _ message: Logger.Message, _ attempt: LoginAttempt, budget: LogBudget) {
        log(level, message, metadata: metadata(attempt), budget: budget)
    }

    /// Writes a line a client can cause once per request within `budget`, saying how many like it were dropped
    /// before it (see ``LogBudget``).
    package func log(_ level: Logger.Level, _ message: Logger.Message, metadata: @autoclosure () -> Logger.Metadata, budget: LogBudget) {
        guard logger.logLevel <= level else { return }
        let (write, dropped) = budget.spend()
        guard write else { return }
        var metadata = metadata()
        if dropped > 0 { metadata["dropped_before"] = "\(dropped)" }
        logger.log(level: level, message, metadata: metadata)
    }

    /// A value for a log line: `********` when logs are redacted.
    /// A client-chosen value as a log shows it: redacted (`DEFENDER_LOG_REDACT`), or with its control characters
    /// written as `\u{…}`, so that a username holding a line break cannot forge a log line.
    func shown(_ value: String) -> Logger.MetadataValue {
        if configuration.redactLogs { return "********" }
        guard value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return .string(value) }
        var escaped = ""
        for scalar in value.unicodeScalars {
            if scalar.properties.generalCategory == .control {
                escaped += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                escaped.unicodeScalars.append(scalar)
            }
        }
        return .string(escaped)
    }
}
