extension DefenderConfiguration {
    /// A valid configuration that may not do what was meant: logged once at start-up by `DefenderRuntime`, naming
    /// the setting (never its value), so that protection is never turned off, or memory left to grow, in silence.
    public struct Warning: Sendable, Hashable, CustomStringConvertible {
        /// The setting (or settings) concerned.
        public let setting: String
        /// What it does, and what to set instead.
        public let message: String

        public var description: String { "\(setting): \(message)" }
    }

    /// The warnings this configuration calls for (empty for the defaults).
    public var warnings: [Warning] {
        var warnings: [Warning] = []
        func warn(_ setting: String, _ message: String) { warnings.append(Warning(setting: setting, message: message)) }
        if dryRun {
            warn("DEFENDER_DRY_RUN", "is on: lockouts are counted and logged, but nobody is refused")
        }
        if disableIPLockout && disableUsernameLockout {
            warn("DEFENDER_DISABLE_IP_LOCKOUT, DEFENDER_DISABLE_USERNAME_LOCKOUT", "are both on: nothing is ever locked out by failures")
        }
        if behindReverseProxy && trustedProxies.isEmpty {
            warn(
                "DEFENDER_TRUSTED_PROXIES",
                "is empty while DEFENDER_BEHIND_REVERSE_PROXY is on: no forwarded address is believed, so every client is counted as the proxy's address and one attacker locks everyone out; list the proxies' addresses")
        }
        if effectiveAttemptCooloff == .zero {
            warn(
                "DEFENDER_ATTEMPT_COOLOFF_TIME",
                "is 0 (or inherited from DEFENDER_COOLOFF_TIME=0): failure counters never expire, so every address and username that ever fails keeps one until a success or an operator clears it (as in django-defender); a store fills with them over time")
        }
        if mockRedis && store == .redis {
            warn("DEFENDER_MOCK_REDIS", "is on, so the Redis store that DEFENDER_STORE names is not used: the memory store of this process counts alone")
        }
        if accessAttemptExpiration == .zero {
            warn("DEFENDER_ACCESS_ATTEMPT_EXPIRATION", "is 0: lockouts never escalate (no window remembers them), and `defender cleanup` deletes the whole audit log")
        }
        if ipv6PrefixLength < 48 {
            warn(
                "DEFENDER_IPV6_PREFIX_LENGTH",
                "is below 48: IPv6 clients are counted per prefix wider than one site, so one attacker's failures lock out a whole provider's customers; 64 (one subnet, the default) or 56 (one home) are the usual choices")
        }
        if memoryMaxEntries < 1000 {
            warn(
                "DEFENDER_MEMORY_MAX_ENTRIES",
                "is below 1000: the memory store (or the Redis store's stand-in during an outage) keeps so few keys that an attack from that many addresses or usernames evicts the others' counters early, so their failures stop adding up; the default is 100000")
        }
        if unlockMail.smtpURL != nil {
            if unlockMail.publicURL == nil {
                warn("DEFENDER_PUBLIC_URL", "is not set while unlock e-mails are on: their links use the server's own address, which the account's owner may not reach")
            } else if unlockMail.publicURL?.lowercased().hasPrefix("http://") == true {
                warn("DEFENDER_PUBLIC_URL", "is http://: an unlock link, which unlocks the account, would travel in clear; use https://")
            }
        }
        return warnings
    }
}
