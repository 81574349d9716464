import DefenderCore
import HTTPTypes

/// `RateLimit-Policy` and `RateLimit` (IETF draft `draft-ietf-httpapi-ratelimit-headers`), one policy per
/// counting dimension: `"ip";q=3;w=300, "username";q=3;w=300`, where `q` is the failures allowed and `w` the
/// counter's lifetime in seconds; `RateLimit` then gives `r`, the failures left, and `t`, the seconds until
/// they are all available again. Sent when `DefenderConfiguration/rateLimitHeaders` is on: the policy on every
/// protected POST, `RateLimit` on failures and lockouts (after a success the counters are not read). A client
/// trusted through a device cookie is counted on its device instead of the username, against
/// `DefenderConfiguration/deviceFailureLimit`: that dimension is named `"device"`.
package enum RateLimitFields {
    package static let policyName = HTTPField.Name("RateLimit-Policy")!
    package static let name = HTTPField.Name("RateLimit")!

    static func dimensions(_ config: DefenderConfiguration, hasUsername: Bool, device: Bool) -> [(name: String, limit: Int)] {
        var result: [(String, Int)] = []
        if !config.disableIPLockout { result.append(("ip", config.ipFailureLimit)) }
        if hasUsername && !config.disableUsernameLockout {
            result.append(device ? ("device", config.deviceFailureLimit) : ("username", config.usernameFailureLimit))
        }
        return result
    }

    static func window(_ config: DefenderConfiguration) -> Int64 { config.effectiveAttemptCooloff.components.seconds }

    package static func addPolicy(to headers: inout HTTPFields, _ config: DefenderConfiguration, hasUsername: Bool, device: Bool = false) {
        let window = window(config)
        let items = dimensions(config, hasUsername: hasUsername, device: device).map { item in
            "\"\(item.name)\";q=\(item.limit)" + (window > 0 ? ";w=\(window)" : "")
        }
        if !items.isEmpty { headers[policyName] = items.joined(separator: ", ") }
    }

    /// After a counted failure.
    package static func addRemaining(
        to headers: inout HTTPFields, _ config: DefenderConfiguration, policy: LockoutPolicy, result: FailureResult, hasUsername: Bool,
        device: Bool = false
    ) {
        let window = window(config)
        let items = dimensions(config, hasUsername: hasUsername, device: device).map { item in
            let isIP = item.name == "ip"
            var remaining = item.limit - (isIP ? result.ipFailures : result.usernameFailures)
            // The long window may lock sooner than the counter (a slow attacker's counter starts afresh every
            // cool-off, his window does not): what is left is what is left before the first of the two limits.
            let longLimit = policy.longWindowLimit(of: isIP ? .ip : .username)
            if longLimit > 0 { remaining = min(remaining, longLimit - (isIP ? result.ipLongWindowFailures : result.usernameLongWindowFailures)) }
            return "\"\(item.name)\";r=\(max(0, remaining))" + (window > 0 ? ";t=\(window)" : "")
        }
        addPolicy(to: &headers, config, hasUsername: hasUsername, device: device)
        if !items.isEmpty { headers[name] = items.joined(separator: ", ") }
    }

    /// On a lockout: nothing left on the keys that lock, until the lock lifts.
    package static func addLocked(to headers: inout HTTPFields, _ config: DefenderConfiguration, lockout: Lockout) {
        // A shared address's pair is its IP dimension: the policy names it `ip` (and names each dimension once).
        var names: [String] = []
        for key in lockout.keys {
            let name = switch key.kind {
            case .username: "username"
            case .device: "device"
            default: "ip"
            }
            if !names.contains(name) { names.append(name) }
        }
        let items = names.map { name in
            "\"\(name)\";r=0" + (lockout.retryAfterSeconds.map { ";t=\($0)" } ?? "")
        }
        let device = lockout.keys.contains { $0.kind == .device }
        addPolicy(to: &headers, config, hasUsername: device || lockout.keys.contains { $0.kind == .username }, device: device)
        if !items.isEmpty { headers[name] = items.joined(separator: ", ") }
    }
}
