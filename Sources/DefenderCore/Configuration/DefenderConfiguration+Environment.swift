import Foundation

extension DefenderConfiguration {
    /// Every environment variable that ``fromEnvironment(_:)`` reads.
    public static let environmentVariables: [String] = [
        "DEFENDER_LOGIN_FAILURE_LIMIT", "DEFENDER_LOGIN_FAILURE_LIMIT_IP", "DEFENDER_LOGIN_FAILURE_LIMIT_USERNAME",
        "DEFENDER_LOCK_OUT_BY_IP_AND_USERNAME", "DEFENDER_DISABLE_IP_LOCKOUT", "DEFENDER_DISABLE_USERNAME_LOCKOUT",
        "DEFENDER_COOLOFF_TIME", "DEFENDER_ATTEMPT_COOLOFF_TIME", "DEFENDER_LOCKOUT_COOLOFF_TIME",
        "DEFENDER_LOCKOUT_TEMPLATE", "DEFENDER_LOCKOUT_URL", "DEFENDER_USERNAME_FORM_FIELD", "DEFENDER_CACHE_PREFIX",
        "DEFENDER_BEHIND_REVERSE_PROXY", "DEFENDER_REVERSE_PROXY_HEADER", "DEFENDER_STORE_ACCESS_ATTEMPTS",
        "DEFENDER_ACCESS_ATTEMPT_EXPIRATION", "DEFENDER_USE_CELERY", "DEFENDER_REDIS_URL",
        "DEFENDER_REDIS_PASSWORD_QUOTE", "DEFENDER_REDIS_NAME", "DEFENDER_GET_USERNAME_FROM_REQUEST_PATH",
        "DEFENDER_MOCK_REDIS", "DEFENDER_TRUSTED_PROXIES", "DEFENDER_IPV6_PREFIX_LENGTH",
        "DEFENDER_STORE_FAILURE_POLICY", "DEFENDER_LOCKOUT_STATUS", "DEFENDER_MEMORY_MAX_ENTRIES", "DEFENDER_STORE",
        "DEFENDER_SUCCESS_RESET", "DEFENDER_ADMISSION_TIMEOUT_MS", "DEFENDER_RESERVATION_TTL",
        "DEFENDER_IP_ALLOWLIST", "DEFENDER_IP_DENYLIST", "DEFENDER_USERNAME_ALLOWLIST", "DEFENDER_USERNAME_DENYLIST",
        "DEFENDER_IP_DENYLIST_FILE", "DEFENDER_IP_DENYLIST_RELOAD_INTERVAL", "DEFENDER_SPRAY_USERNAME_LIMIT",
        "DEFENDER_SPRAY_WINDOW", "DEFENDER_LOCKOUT_COOLOFF_MAX", "DEFENDER_LOCKOUT_JITTER", "DEFENDER_RATELIMIT_HEADERS",
        "DEFENDER_LOG_REDACT", "DEFENDER_DRY_RUN", "DEFENDER_LONG_WINDOW_FAILURE_LIMIT", "DEFENDER_LONG_WINDOW",
        "DEFENDER_SHARED_IP_RANGES", "DEFENDER_SHARED_IP_RANGES_FILE", "DEFENDER_SHARED_IP_RANGES_BUILTIN",
        "DEFENDER_SHARED_SPRAY_USERNAME_LIMIT", "DEFENDER_SECRET_KEY", "DEFENDER_DEVICE_COOKIE_NAME",
        "DEFENDER_DEVICE_COOKIE_AGE", "DEFENDER_DEVICE_FAILURE_LIMIT", "DEFENDER_SMTP_URL", "DEFENDER_MAIL_FROM",
        "DEFENDER_PUBLIC_URL", "DEFENDER_UNLOCK_LINK_TTL", "DEFENDER_UNLOCK_MAILS_PER_DAY",
    ]

    /// `DEFENDER_*` names that are not settings and are not reported as unrecognized: this package's test and
    /// benchmark harness (`DEFENDER_TEST_REDIS_URL`, `DEFENDER_BENCH_REDIS_URL`, …).
    public static let reservedPrefixes = ["DEFENDER_TEST_", "DEFENDER_BENCH_"]

    /// Reads the configuration from `DEFENDER_*` environment variables (django-defender's names).
    ///
    /// Unset or empty variables keep their defaults. Booleans are `true/false/1/0/yes/no/on/off` in any case;
    /// numbers are whole and ≥ 0; `DEFENDER_LOCKOUT_COOLOFF_TIME` is a number or a list such as `60,300,0`
    /// (brackets allowed). Nothing silently falls back: a bad value throws.
    /// - Parameter environment: the variables; the process environment by default.
    /// - Returns: a validated configuration.
    /// - Throws: ``DefenderError`` naming the variable and the accepted forms.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(DefenderError) -> DefenderConfiguration {
        let reader = EnvironmentReader(environment: environment)
        var config = DefenderConfiguration()
        if let value = try reader.count("DEFENDER_LOGIN_FAILURE_LIMIT") { config.loginFailureLimit = value }
        config.loginFailureLimitIP = try reader.count("DEFENDER_LOGIN_FAILURE_LIMIT_IP")
        config.loginFailureLimitUsername = try reader.count("DEFENDER_LOGIN_FAILURE_LIMIT_USERNAME")
        if let value = try reader.bool("DEFENDER_LOCK_OUT_BY_IP_AND_USERNAME") { config.lockOutByIPAndUsername = value }
        if let value = try reader.bool("DEFENDER_DISABLE_IP_LOCKOUT") { config.disableIPLockout = value }
        if let value = try reader.bool("DEFENDER_DISABLE_USERNAME_LOCKOUT") { config.disableUsernameLockout = value }
        if let value = try reader.seconds("DEFENDER_COOLOFF_TIME") { config.cooloffTime = value }
        config.attemptCooloffTime = try reader.seconds("DEFENDER_ATTEMPT_COOLOFF_TIME")
        config.lockoutCooloffTimes = try reader.secondsList("DEFENDER_LOCKOUT_COOLOFF_TIME")
        config.lockoutTemplate = reader.string("DEFENDER_LOCKOUT_TEMPLATE")
        config.lockoutURL = reader.string("DEFENDER_LOCKOUT_URL")
        if let value = reader.string("DEFENDER_USERNAME_FORM_FIELD") { config.usernameFormField = value }
        if let value = reader.string("DEFENDER_CACHE_PREFIX") { config.cachePrefix = value }
        if let value = try reader.bool("DEFENDER_BEHIND_REVERSE_PROXY") { config.behindReverseProxy = value }
        if let value = reader.string("DEFENDER_REVERSE_PROXY_HEADER") { config.reverseProxyHeader = value }
        if let value = try reader.bool("DEFENDER_STORE_ACCESS_ATTEMPTS") { config.storeAccessAttempts = value }
        if let hours = try reader.count("DEFENDER_ACCESS_ATTEMPT_EXPIRATION", unit: "hours") {
            config.accessAttemptExpiration = .seconds(hours * 3600)
        }
        if let value = try reader.bool("DEFENDER_USE_CELERY") { config.writeAttemptsInBackground = value }
        if let value = reader.string("DEFENDER_REDIS_URL") { config.redisURL = value }
        if let value = try reader.bool("DEFENDER_REDIS_PASSWORD_QUOTE") { config.redisPasswordQuote = value }
        if let name = reader.string("DEFENDER_REDIS_NAME") {
            guard let url = reader.string(name) else {
                throw reader.error("DEFENDER_REDIS_NAME", "names the variable \(name), which is not set; set \(name) to a redis:// URL or unset DEFENDER_REDIS_NAME")
            }
            config.redisName = name
            config.redisURL = url
        }
        if let value = reader.string("DEFENDER_GET_USERNAME_FROM_REQUEST_PATH") {
            guard let source = UsernameSource(setting: value) else {
                throw reader.error(
                    "DEFENDER_GET_USERNAME_FROM_REQUEST_PATH",
                    "'\(value)' is not a username source; use form, json or path:NAME (custom code: set a closure in Swift)"
                )
            }
            config.usernameSource = source
        }
        if let value = try reader.bool("DEFENDER_MOCK_REDIS") { config.mockRedis = value }
        if let value = try reader.networks("DEFENDER_TRUSTED_PROXIES") { config.trustedProxies = value }
        if let value = try reader.count("DEFENDER_IPV6_PREFIX_LENGTH") { config.ipv6PrefixLength = value }
        if let value = try reader.choice("DEFENDER_STORE_FAILURE_POLICY", StoreFailurePolicy.all) { config.storeFailurePolicy = value }
        if let value = try reader.count("DEFENDER_LOCKOUT_STATUS") { config.lockoutStatus = value }
        if let value = try reader.count("DEFENDER_MEMORY_MAX_ENTRIES") { config.memoryMaxEntries = value }
        if let value = try reader.choice("DEFENDER_STORE", StoreKind.all) { config.store = value }
        if let value = try reader.choice("DEFENDER_SUCCESS_RESET", SuccessReset.choices) { config.successReset = value }
        if let value = try reader.count("DEFENDER_ADMISSION_TIMEOUT_MS", unit: "milliseconds") {
            config.admissionTimeout = .milliseconds(value)
        }
        if let value = try reader.seconds("DEFENDER_RESERVATION_TTL") { config.reservationTTL = value }
        if let value = try reader.networks("DEFENDER_IP_ALLOWLIST") { config.ipAllowlist = value }
        if let value = try reader.networks("DEFENDER_IP_DENYLIST") { config.ipDenylist = value }
        if let value = reader.list("DEFENDER_USERNAME_ALLOWLIST") { config.usernameAllowlist = value }
        if let value = reader.list("DEFENDER_USERNAME_DENYLIST") { config.usernameDenylist = value }
        config.ipDenylistFile = reader.string("DEFENDER_IP_DENYLIST_FILE")
        if let value = try reader.seconds("DEFENDER_IP_DENYLIST_RELOAD_INTERVAL") { config.ipDenylistReloadInterval = value }
        if let value = try reader.count("DEFENDER_SPRAY_USERNAME_LIMIT") { config.sprayUsernameLimit = value }
        if let value = try reader.seconds("DEFENDER_SPRAY_WINDOW") { config.sprayWindow = value }
        if let value = try reader.count("DEFENDER_LONG_WINDOW_FAILURE_LIMIT") { config.longWindowFailureLimit = value }
        if let value = try reader.seconds("DEFENDER_LONG_WINDOW") { config.longWindow = value }
        if let value = try reader.networks("DEFENDER_SHARED_IP_RANGES") { config.sharedIPRanges = value }
        config.sharedIPRangesFile = reader.string("DEFENDER_SHARED_IP_RANGES_FILE")
        if let value = try reader.bool("DEFENDER_SHARED_IP_RANGES_BUILTIN") { config.sharedIPRangesBuiltIn = value }
        if let value = try reader.count("DEFENDER_SHARED_SPRAY_USERNAME_LIMIT") { config.sharedSprayUsernameLimit = value }
        config.lockoutCooloffMax = try reader.seconds("DEFENDER_LOCKOUT_COOLOFF_MAX")
        if let value = try reader.seconds("DEFENDER_LOCKOUT_JITTER") { config.lockoutJitter = value }
        if let value = try reader.bool("DEFENDER_RATELIMIT_HEADERS") { config.rateLimitHeaders = value }
        if let value = try reader.bool("DEFENDER_LOG_REDACT") { config.redactLogs = value }
        if let value = try reader.bool("DEFENDER_DRY_RUN") { config.dryRun = value }
        try readDeviceCookies(reader, into: &config)
        try readUnlockMail(reader, into: &config)
        try config.validate()
        let known = Set(environmentVariables)
        config.unrecognized.names = environment.keys.filter { name in
            name.hasPrefix("DEFENDER_") && !known.contains(name) && !reservedPrefixes.contains { name.hasPrefix($0) }
        }.sorted()
        return config
    }
}

/// Reads typed values and words errors the same way for every variable.
struct EnvironmentReader {
    let environment: [String: String]

    func error(_ name: String, _ message: String) -> DefenderError {
        DefenderError(.invalidConfiguration, message, setting: name)
    }

    func string(_ name: String) -> String? {
        guard let raw = environment[name] else { return nil }
        let value = raw.trimmingASCIIWhitespace()
        return value.isEmpty ? nil : String(value)
    }

    func bool(_ name: String) throws(DefenderError) -> Bool? {
        guard let value = string(name) else { return nil }
        switch value.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw error(name, "'\(value)' is not a boolean; use true/false, 1/0, yes/no or on/off")
        }
    }

    /// A comma-separated list; empty items are dropped.
    func list(_ name: String) -> [String]? {
        string(name).map { $0.split(separator: ",").map { String($0.trimmingASCIIWhitespace()) }.filter { !$0.isEmpty } }
    }

    /// A comma-separated list of addresses and CIDR ranges.
    func networks(_ name: String) throws(DefenderError) -> [IPNetwork]? {
        guard let items = list(name) else { return nil }
        return try items.map { item throws(DefenderError) in
            guard let network = IPNetwork(item) else {
                throw error(name, "'\(item.prefix(64))' is not an address or CIDR range; use a comma-separated list such as 10.0.0.0/8,2001:db8::/32")
            }
            // A range written with bits set past its prefix is ambiguous: `198.51.100.10/1` reads as 128.0.0.0/1,
            // half the internet, where one address was most likely meant. Said, not guessed.
            if let slash = item.firstIndex(of: "/"), let given = IPAddress(item[..<slash]), given != network.address {
                throw error(
                    name,
                    "'\(item.prefix(64))' has address bits set past its /\(item[item.index(after: slash)...].prefix(4)) prefix, so it would stand for \(network): write \(network) for that range, or the address alone for one address")
            }
            return network
        }
    }

    func count(_ name: String, unit: String = "") throws(DefenderError) -> Int? {
        guard let value = string(name) else { return nil }
        return try wholeNumber(value, name: name, unit: unit)
    }

    func seconds(_ name: String) throws(DefenderError) -> Duration? {
        try count(name, unit: "seconds").map { .seconds($0) }
    }

    func secondsList(_ name: String) throws(DefenderError) -> [Duration]? {
        guard var value = string(name) else { return nil }
        if value.hasPrefix("["), value.hasSuffix("]") { value = String(value.dropFirst().dropLast()) }
        let parts = value.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingASCIIWhitespace() }
        guard !parts.isEmpty, !parts.contains(where: \.isEmpty) else {
            throw error(name, "'\(value)' is not a number of seconds or a list of them such as 60,300,0")
        }
        return try parts.map { part throws(DefenderError) in
            .seconds(try wholeNumber(String(part), name: name, unit: "seconds, or a list such as 60,300,0"))
        }
    }

    func choice<T: CustomStringConvertible>(_ name: String, _ choices: [T]) throws(DefenderError) -> T? {
        guard let value = string(name) else { return nil }
        guard let match = choices.first(where: { $0.description == value.lowercased() }) else {
            throw error(name, "'\(value)' is not one of \(choices.map(\.description).joined(separator: ", "))")
        }
        return match
    }

    private func wholeNumber(_ value: String, name: String, unit: String) throws(DefenderError) -> Int {
        guard value.allSatisfy(\.isASCIIDigit), let number = Int(value), number <= DefenderConfiguration.maximumCount else {
            let what = unit.isEmpty ? "" : " (\(unit))"
            throw error(name, "'\(value)' is not a whole number ≥ 0\(what)")
        }
        return number
    }
}
