extension DefenderConfiguration {
    /// Checks every value, so that a mistake stops start-up instead of weakening protection.
    /// - Throws: ``DefenderError`` with code ``DefenderError/Code/invalidConfiguration`` naming the setting.
    public func validate() throws(DefenderError) {
        func fail(_ setting: String, _ message: String) -> DefenderError {
            DefenderError(.invalidConfiguration, message, setting: setting)
        }
        for (name, value) in [
            ("DEFENDER_LOGIN_FAILURE_LIMIT", loginFailureLimit), ("DEFENDER_LOGIN_FAILURE_LIMIT_IP", ipFailureLimit),
            ("DEFENDER_LOGIN_FAILURE_LIMIT_USERNAME", usernameFailureLimit),
        ] where !(0...Self.maximumCount).contains(value) {
            throw fail(name, "must be a whole number from 0 to \(Self.maximumCount), got \(value)")
        }
        var durations = [("DEFENDER_COOLOFF_TIME", cooloffTime), ("DEFENDER_ATTEMPT_COOLOFF_TIME", effectiveAttemptCooloff)]
        durations += effectiveLockoutCooloffs.map { ("DEFENDER_LOCKOUT_COOLOFF_TIME", $0) }
        durations.append(("DEFENDER_ACCESS_ATTEMPT_EXPIRATION", accessAttemptExpiration))
        for (name, value) in durations where value < .zero || value > Self.maximumDuration {
            throw fail(name, "must be between 0 and \(Self.maximumDuration.components.seconds) seconds")
        }
        if effectiveLockoutCooloffs.isEmpty {
            throw fail("DEFENDER_LOCKOUT_COOLOFF_TIME", "needs at least one value (a number of seconds, or a list like 60,300,0)")
        }
        if usernameFormField.isEmpty {
            throw fail("DEFENDER_USERNAME_FORM_FIELD", "must not be empty")
        }
        if cachePrefix.isEmpty || cachePrefix.contains(where: { $0.isWhitespace || "*?[]{}".contains($0) }) {
            throw fail("DEFENDER_CACHE_PREFIX", "must be non-empty, without spaces or the characters * ? [ ] { }")
        }
        if ClientIPResolver.headerFormat(forSetting: reverseProxyHeader) == .addressList(name: "") {
            throw fail("DEFENDER_REVERSE_PROXY_HEADER", "must name a header, such as HTTP_X_FORWARDED_FOR or Forwarded")
        }
        if let lockoutURL, lockoutURL.isEmpty { throw fail("DEFENDER_LOCKOUT_URL", "must not be empty when set") }
        if let lockoutTemplate, lockoutTemplate.isEmpty {
            throw fail("DEFENDER_LOCKOUT_TEMPLATE", "must not be empty when set")
        }
        if !(0...128).contains(ipv6PrefixLength) {
            throw fail("DEFENDER_IPV6_PREFIX_LENGTH", "must be a whole number from 0 to 128, got \(ipv6PrefixLength)")
        }
        if lockoutStatus != 403 && lockoutStatus != 429 {
            throw fail("DEFENDER_LOCKOUT_STATUS", "must be 403 or 429, got \(lockoutStatus)")
        }
        if !(1...Self.maximumCount).contains(memoryMaxEntries) {
            throw fail("DEFENDER_MEMORY_MAX_ENTRIES", "must be a whole number from 1 to \(Self.maximumCount)")
        }
        if admissionTimeout < .zero || admissionTimeout > .seconds(60) {
            throw fail("DEFENDER_ADMISSION_TIMEOUT_MS", "must be a whole number of milliseconds from 0 to 60000")
        }
        if reservationTTL < .seconds(1) || reservationTTL > .seconds(3600) {
            throw fail("DEFENDER_RESERVATION_TTL", "must be a whole number of seconds from 1 to 3600")
        }
        if let ipDenylistFile, ipDenylistFile.isEmpty { throw fail("DEFENDER_IP_DENYLIST_FILE", "must not be empty when set") }
        if ipDenylistReloadInterval < .seconds(1) || ipDenylistReloadInterval > .seconds(86400) {
            throw fail("DEFENDER_IP_DENYLIST_RELOAD_INTERVAL", "must be a whole number of seconds from 1 to 86400")
        }
        if !(0...Self.maximumCount).contains(sprayUsernameLimit) {
            throw fail("DEFENDER_SPRAY_USERNAME_LIMIT", "must be a whole number from 0 (off) to \(Self.maximumCount)")
        }
        if sprayWindow < .seconds(1) || sprayWindow > Self.maximumDuration {
            throw fail("DEFENDER_SPRAY_WINDOW", "must be a whole number of seconds from 1 to \(Self.maximumDuration.components.seconds)")
        }
        if let sharedIPRangesFile, sharedIPRangesFile.isEmpty { throw fail("DEFENDER_SHARED_IP_RANGES_FILE", "must not be empty when set") }
        if !(0...Self.maximumCount).contains(sharedSprayUsernameLimit) {
            throw fail("DEFENDER_SHARED_SPRAY_USERNAME_LIMIT", "must be a whole number from 0 (off) to \(Self.maximumCount)")
        }
        if !(0...Self.maximumLongWindowLimit).contains(longWindowFailureLimit) {
            throw fail(
                "DEFENDER_LONG_WINDOW_FAILURE_LIMIT",
                "must be a whole number from 0 (off) to \(Self.maximumLongWindowLimit) (each key keeps that many failure times)")
        }
        if longWindow < .seconds(1) || longWindow > .seconds(366 * 86400) {
            throw fail("DEFENDER_LONG_WINDOW", "must be a whole number of seconds from 1 to \(366 * 86400) (a year)")
        }
        if let lockoutCooloffMax, lockoutCooloffMax < .seconds(1) || lockoutCooloffMax > Self.maximumDuration {
            throw fail("DEFENDER_LOCKOUT_COOLOFF_MAX", "must be a whole number of seconds from 1 to \(Self.maximumDuration.components.seconds), or unset for no cap")
        }
        if lockoutJitter < .zero || lockoutJitter > .seconds(86400) {
            throw fail("DEFENDER_LOCKOUT_JITTER", "must be a whole number of seconds from 0 to 86400")
        }
        // Each list named for itself: an error about the deny list once named the allow list.
        for (setting, list) in [("DEFENDER_USERNAME_ALLOWLIST", usernameAllowlist), ("DEFENDER_USERNAME_DENYLIST", usernameDenylist)]
        where list.contains(where: { DefenderKey.username($0) == nil }) {
            throw fail(setting, "usernames in the list must not be empty (nor only spaces)")
        }
        try validateDeviceCookies()
        try validateUnlockMail()
        if effectiveStore == .redis {
            let scheme = redisURL.split(separator: ":", maxSplits: 1).first.map { $0.lowercased() }
            let schemes = ["redis", "rediss", "unix", "redis-sentinel", "rediss-sentinel", "redis-cluster", "rediss-cluster"]
            guard schemes.contains(scheme ?? ""), redisURL.contains("://") else {
                throw fail(
                    "DEFENDER_REDIS_URL",
                    "must look like redis://[user:password@]host[:port][/db] (or rediss://, unix://, "
                        + "redis-sentinel://host[:port][,…]/[db]?master=NAME, redis-cluster://host[:port][,…])")
            }
        }
    }
}
