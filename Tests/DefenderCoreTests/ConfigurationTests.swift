import DefenderCore
import Testing

@Suite struct ConfigurationTests {
    @Test func defaultsMatchDjangoDefender() throws {
        let config = try DefenderConfiguration.fromEnvironment([:])
        #expect(config == DefenderConfiguration())
        #expect(config.loginFailureLimit == 3 && config.ipFailureLimit == 3 && config.usernameFailureLimit == 3)
        #expect(!config.lockOutByIPAndUsername && !config.disableIPLockout && !config.disableUsernameLockout)
        #expect(config.cooloffTime == .seconds(300))
        #expect(config.effectiveAttemptCooloff == .seconds(300))
        #expect(config.effectiveLockoutCooloffs == [.seconds(300)])
        #expect(config.lockoutTemplate == nil && config.lockoutURL == nil)
        #expect(config.usernameFormField == "username" && config.cachePrefix == "defender")
        #expect(!config.behindReverseProxy && config.reverseProxyHeader == "HTTP_X_FORWARDED_FOR")
        #expect(config.storeAccessAttempts && config.accessAttemptExpiration == .seconds(24 * 3600))
        #expect(config.redisURL == "redis://localhost:6379/0" && !config.redisPasswordQuote && config.redisName == nil)
        #expect(config.usernameSource == .formField && !config.mockRedis)
        #expect(config.trustedProxies.count == 8 && config.ipv6PrefixLength == 64)
        #expect(config.storeFailurePolicy == .fallback && config.lockoutStatus == 403)
        #expect(config.memoryMaxEntries == 100_000 && config.store == .memory && config.successReset == .own)
        #expect(config.admissionTimeout == .seconds(10) && config.reservationTTL == .seconds(30))
    }

    @Test func readsEveryVariable() throws {
        let config = try DefenderConfiguration.fromEnvironment([
            "DEFENDER_LOGIN_FAILURE_LIMIT": "5", "DEFENDER_LOGIN_FAILURE_LIMIT_IP": "7",
            "DEFENDER_LOGIN_FAILURE_LIMIT_USERNAME": "2", "DEFENDER_LOCK_OUT_BY_IP_AND_USERNAME": "TRUE",
            "DEFENDER_DISABLE_IP_LOCKOUT": "yes", "DEFENDER_DISABLE_USERNAME_LOCKOUT": "0",
            "DEFENDER_COOLOFF_TIME": "60", "DEFENDER_ATTEMPT_COOLOFF_TIME": "30",
            "DEFENDER_LOCKOUT_COOLOFF_TIME": "[60, 300, 0]", "DEFENDER_LOCKOUT_TEMPLATE": "lockout",
            "DEFENDER_LOCKOUT_URL": "/locked", "DEFENDER_USERNAME_FORM_FIELD": "email", "DEFENDER_CACHE_PREFIX": "app1",
            "DEFENDER_BEHIND_REVERSE_PROXY": "On", "DEFENDER_REVERSE_PROXY_HEADER": "HTTP_X_REAL_IP",
            "DEFENDER_STORE_ACCESS_ATTEMPTS": "false", "DEFENDER_ACCESS_ATTEMPT_EXPIRATION": "48",
            "DEFENDER_USE_CELERY": "no", "DEFENDER_REDIS_URL": "rediss://:p%40ss@cache:6380/3",
            "DEFENDER_REDIS_PASSWORD_QUOTE": "true", "DEFENDER_GET_USERNAME_FROM_REQUEST_PATH": "path:name",
            "DEFENDER_MOCK_REDIS": "true", "DEFENDER_TRUSTED_PROXIES": "10.0.0.0/8, ::1",
            "DEFENDER_IPV6_PREFIX_LENGTH": "56", "DEFENDER_STORE_FAILURE_POLICY": "closed",
            "DEFENDER_LOCKOUT_STATUS": "429", "DEFENDER_MEMORY_MAX_ENTRIES": "1000", "DEFENDER_STORE": "redis",
            "DEFENDER_SUCCESS_RESET": "all", "DEFENDER_ADMISSION_TIMEOUT_MS": "250", "DEFENDER_RESERVATION_TTL": "20",
        ])
        #expect(config.loginFailureLimit == 5 && config.ipFailureLimit == 7 && config.usernameFailureLimit == 2)
        #expect(config.lockOutByIPAndUsername && config.disableIPLockout && !config.disableUsernameLockout)
        #expect(config.cooloffTime == .seconds(60) && config.effectiveAttemptCooloff == .seconds(30))
        #expect(config.effectiveLockoutCooloffs == [.seconds(60), .seconds(300), .zero])
        #expect(config.lockoutTemplate == "lockout" && config.lockoutURL == "/locked")
        #expect(config.usernameFormField == "email" && config.cachePrefix == "app1")
        #expect(config.behindReverseProxy && config.reverseProxyHeader == "HTTP_X_REAL_IP")
        #expect(!config.storeAccessAttempts && config.accessAttemptExpiration == .seconds(48 * 3600))
        #expect(!config.writeAttemptsInBackground && config.redisURL == "rediss://:p%40ss@cache:6380/3")
        #expect(config.redisPasswordQuote && config.usernameSource == .pathParameter("name"))
        #expect(config.mockRedis && config.effectiveStore == .memory && config.store == .redis)
        #expect(config.trustedProxies == [IPNetwork("10.0.0.0/8")!, IPNetwork("::1/128")!])
        #expect(config.ipv6PrefixLength == 56 && config.storeFailurePolicy == .closed && config.lockoutStatus == 429)
        #expect(config.memoryMaxEntries == 1000 && config.successReset == .all)
        #expect(config.admissionTimeout == .milliseconds(250) && config.reservationTTL == .seconds(20))
        #expect(DefenderConfiguration.environmentVariables.count == 60)  // the others: BeyondTests, LongWindowTests, SharedRangeTests, DeviceCookieTests, UnlockMailTests
    }

    @Test func cooloffDefaultsFollowCooloffTime() throws {
        let config = try DefenderConfiguration.fromEnvironment(["DEFENDER_COOLOFF_TIME": "0"])
        #expect(config.effectiveAttemptCooloff == .zero && config.effectiveLockoutCooloffs == [.zero])
        let single = try DefenderConfiguration.fromEnvironment(["DEFENDER_LOCKOUT_COOLOFF_TIME": "90"])
        #expect(single.effectiveLockoutCooloffs == [.seconds(90)] && single.effectiveAttemptCooloff == .seconds(300))
    }

    @Test func redisNameReusesAnotherVariable() throws {
        let config = try DefenderConfiguration.fromEnvironment(["DEFENDER_REDIS_NAME": "CACHE_URL", "CACHE_URL": "redis://c:1/2"])
        #expect(config.redisURL == "redis://c:1/2" && config.redisName == "CACHE_URL")
        let error = #expect(throws: DefenderError.self) { try DefenderConfiguration.fromEnvironment(["DEFENDER_REDIS_NAME": "NOPE"]) }
        #expect(error?.setting == "DEFENDER_REDIS_NAME")
    }

    /// A username list with an entry that normalises to nothing is refused under its own name (a bad deny-list
    /// entry was reported as the allow list's).
    @Test(arguments: ["DEFENDER_USERNAME_ALLOWLIST", "DEFENDER_USERNAME_DENYLIST"]) func usernameListsNameThemselves(_ setting: String) {
        let error = #expect(throws: DefenderError.self) { try DefenderConfiguration.fromEnvironment([setting: "alice,\u{00A0}"]) }
        #expect(error?.setting == setting)
    }

    /// A range with address bits set past its prefix is refused, naming the range it would have been: an allow
    /// list's `198.51.100.10/1` was read, in silence, as 128.0.0.0/1. Exact ranges and single addresses pass.
    @Test(arguments: ["DEFENDER_TRUSTED_PROXIES", "DEFENDER_IP_ALLOWLIST", "DEFENDER_IP_DENYLIST", "DEFENDER_SHARED_IP_RANGES"])
    func rangesWithHostBitsAreRefused(_ setting: String) throws {
        for (bad, meant) in [("198.51.100.10/1", "128.0.0.0/1"), ("10.1.2.3/8", "10.0.0.0/8"), ("2001:db8::1/32", "2001:db8::/32")] {
            let error = #expect(throws: DefenderError.self) { try DefenderConfiguration.fromEnvironment([setting: "192.0.2.0/24,\(bad)"]) }
            #expect(error?.setting == setting && error?.message.contains(meant) == true, "\(bad): \(error?.message ?? "")")
        }
        _ = try DefenderConfiguration.fromEnvironment([setting: "10.0.0.0/8, 198.51.100.10, 2001:db8::/32, 2001:db8::1, 192.0.2.7/32"])
    }

    // The 0.9.8 tests #47–#51 were vacuous; these check that bad values really stop start-up.
    @Test(arguments: [
        ("DEFENDER_LOGIN_FAILURE_LIMIT", "3.5"), ("DEFENDER_LOGIN_FAILURE_LIMIT", "maybe"), ("DEFENDER_LOGIN_FAILURE_LIMIT", "-1"),
        ("DEFENDER_LOGIN_FAILURE_LIMIT_IP", "x"), ("DEFENDER_LOGIN_FAILURE_LIMIT_USERNAME", "1e3"),
        ("DEFENDER_LOCK_OUT_BY_IP_AND_USERNAME", "maybe"), ("DEFENDER_DISABLE_IP_LOCKOUT", "2"),
        ("DEFENDER_DISABLE_USERNAME_LOCKOUT", "nah"), ("DEFENDER_COOLOFF_TIME", "a"),
        ("DEFENDER_ATTEMPT_COOLOFF_TIME", "1,2"), ("DEFENDER_LOCKOUT_COOLOFF_TIME", "[]"),
        ("DEFENDER_LOCKOUT_COOLOFF_TIME", "60,,300"), ("DEFENDER_LOCKOUT_COOLOFF_TIME", "{\"a\": 1}"),
        ("DEFENDER_LOCKOUT_COOLOFF_TIME", "60,x"), ("DEFENDER_CACHE_PREFIX", "a b"), ("DEFENDER_CACHE_PREFIX", "pre*"),
        ("DEFENDER_BEHIND_REVERSE_PROXY", "sure"), ("DEFENDER_REVERSE_PROXY_HEADER", "HTTP_"),
        ("DEFENDER_STORE_ACCESS_ATTEMPTS", "t"), ("DEFENDER_ACCESS_ATTEMPT_EXPIRATION", "1.5"),
        ("DEFENDER_USE_CELERY", "celery"), ("DEFENDER_REDIS_PASSWORD_QUOTE", "quote"),
        ("DEFENDER_GET_USERNAME_FROM_REQUEST_PATH", "myapp.utils.get_username"), ("DEFENDER_MOCK_REDIS", "mock"),
        ("DEFENDER_TRUSTED_PROXIES", "10.0.0.0/8,proxy.local"), ("DEFENDER_IPV6_PREFIX_LENGTH", "129"),
        ("DEFENDER_STORE_FAILURE_POLICY", "retry"), ("DEFENDER_LOCKOUT_STATUS", "200"),
        ("DEFENDER_MEMORY_MAX_ENTRIES", "0"), ("DEFENDER_STORE", "memcached"), ("DEFENDER_SUCCESS_RESET", "none"),
        ("DEFENDER_COOLOFF_TIME", "99999999999999999999"), ("DEFENDER_ADMISSION_TIMEOUT_MS", "60001"),
        ("DEFENDER_ADMISSION_TIMEOUT_MS", "1.5"), ("DEFENDER_RESERVATION_TTL", "0"), ("DEFENDER_RESERVATION_TTL", "3601"),
    ])
    func rejectsBadValues(_ name: String, _ value: String) {
        let error = #expect(throws: DefenderError.self) { try DefenderConfiguration.fromEnvironment([name: value]) }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.setting == name, "\(String(describing: error))")
        #expect(error?.description.hasPrefix(name + ": ") == true)
    }

    @Test func redisURLIsCheckedWhenRedisIsUsed() {
        #expect(throws: DefenderError.self) {
            try DefenderConfiguration.fromEnvironment(["DEFENDER_STORE": "redis", "DEFENDER_REDIS_URL": "localhost:6379"])
        }
        // Every topology the Redis store speaks passes (a review found Sentinel and Cluster URLs refused here).
        for url in ["redis://h:1/0", "rediss://h", "unix:///run/redis.sock", "redis-sentinel://a,b:26380/0?master=m",
                    "rediss-sentinel://a?master=m", "redis-cluster://a:7000,b:7001", "rediss-cluster://a"] {
            #expect(throws: Never.self, "\(url)") {
                try DefenderConfiguration.fromEnvironment(["DEFENDER_STORE": "redis", "DEFENDER_REDIS_URL": url])
            }
        }
        #expect(throws: DefenderError.self) {
            try DefenderConfiguration.fromEnvironment(["DEFENDER_STORE": "redis", "DEFENDER_REDIS_URL": "http://h"])
        }
    }

    @Test func programmaticValidation() {
        var config = DefenderConfiguration(loginFailureLimit: 5, cooloffTime: .seconds(10), lockOutByIPAndUsername: true, behindReverseProxy: true)
        #expect(throws: Never.self) { try config.validate() }
        config.lockoutCooloffTimes = []
        #expect(throws: DefenderError.self) { try config.validate() }
        config.lockoutCooloffTimes = [.seconds(-1)]
        #expect(throws: DefenderError.self) { try config.validate() }
        config = DefenderConfiguration()
        config.usernameFormField = ""
        #expect(throws: DefenderError.self) { try config.validate() }
        config = DefenderConfiguration()
        config.lockoutURL = ""
        #expect(throws: DefenderError.self) { try config.validate() }
        config = DefenderConfiguration()
        config.lockoutTemplate = ""
        #expect(throws: DefenderError.self) { try config.validate() }
    }

    @Test func usernameSources() {
        #expect(UsernameSource(setting: "defender.utils.username_from_request") == .formField)
        #expect(UsernameSource(setting: "JSON") == .jsonField)
        #expect(UsernameSource(setting: "path:user")?.parameter == "user")
        #expect(UsernameSource(setting: "path:") == nil)
    }
}
