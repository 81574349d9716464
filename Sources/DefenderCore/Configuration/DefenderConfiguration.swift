/// Every setting of django-defender, under its own name and with its default, plus Defender's own.
///
/// Build one in code (`DefenderConfiguration(loginFailureLimit: 5)` or by setting properties), or read it
/// from `DEFENDER_*` environment variables with ``fromEnvironment(_:)``. Call ``validate()`` (the
/// integrations do it at start-up) to have bad values refused with a message naming the setting.
public struct DefenderConfiguration: Sendable, Equatable {
    // MARK: django-defender's settings

    /// `DEFENDER_LOGIN_FAILURE_LIMIT`: failures allowed before a lockout; the default for both limits below.
    /// With limit 3, failures 1–3 are ordinary failures and the 4th is answered with a lockout.
    public var loginFailureLimit: Int = 3
    /// `DEFENDER_LOGIN_FAILURE_LIMIT_IP`: the IP limit; `nil` means ``loginFailureLimit``.
    public var loginFailureLimitIP: Int? = nil
    /// `DEFENDER_LOGIN_FAILURE_LIMIT_USERNAME`: the username limit; `nil` means ``loginFailureLimit``.
    public var loginFailureLimitUsername: Int? = nil
    /// `DEFENDER_LOCK_OUT_BY_IP_AND_USERNAME`: lock a request only when both its IP and its username are blocked.
    public var lockOutByIPAndUsername: Bool = false
    /// `DEFENDER_DISABLE_IP_LOCKOUT`: never count or block IPs automatically.
    public var disableIPLockout: Bool = false
    /// `DEFENDER_DISABLE_USERNAME_LOCKOUT`: never count or block usernames automatically.
    public var disableUsernameLockout: Bool = false
    /// `DEFENDER_COOLOFF_TIME`: the default for both cool-offs below; zero means forever.
    public var cooloffTime: Duration = .seconds(300)
    /// `DEFENDER_ATTEMPT_COOLOFF_TIME`: how long failure counters live after the last failure; `nil` means
    /// ``cooloffTime``, zero means they never expire.
    public var attemptCooloffTime: Duration? = nil
    /// `DEFENDER_LOCKOUT_COOLOFF_TIME`: block lengths; the n-th lockout within ``accessAttemptExpiration`` uses
    /// the n-th entry (the last repeats); zero means until an operator unblocks. `nil` means `[cooloffTime]`.
    public var lockoutCooloffTimes: [Duration]? = nil
    /// `DEFENDER_LOCKOUT_TEMPLATE`: a view rendered (with `cooloff_time_seconds`, `cooloff_time_minutes`,
    /// `failure_limit`) as the lockout page. Takes precedence over ``lockoutURL``.
    public var lockoutTemplate: String? = nil
    /// `DEFENDER_LOCKOUT_URL`: browsers that are locked out are redirected here (JSON clients never are).
    public var lockoutURL: String? = nil
    /// `DEFENDER_USERNAME_FORM_FIELD`: the form (or JSON) field that holds the username.
    public var usernameFormField: String = "username"
    /// `DEFENDER_CACHE_PREFIX`: prefix of every store key.
    public var cachePrefix: String = "defender"
    /// `DEFENDER_BEHIND_REVERSE_PROXY`: read the client address from ``reverseProxyHeader`` when the peer is
    /// one of ``trustedProxies``.
    public var behindReverseProxy: Bool = false
    /// `DEFENDER_REVERSE_PROXY_HEADER`: Django's META name (`HTTP_X_FORWARDED_FOR`) or a plain header name;
    /// `Forwarded` selects RFC 7239 parsing.
    public var reverseProxyHeader: String = "HTTP_X_FORWARDED_FOR"
    /// `DEFENDER_STORE_ACCESS_ATTEMPTS`: write every login attempt to the audit log.
    public var storeAccessAttempts: Bool = true
    /// `DEFENDER_ACCESS_ATTEMPT_EXPIRATION` (hours in the environment): how long audit rows and the lockout
    /// history used for escalation are kept.
    public var accessAttemptExpiration: Duration = .seconds(24 * 3600)
    /// `DEFENDER_USE_CELERY`: write audit rows in background batches instead of inline. Celery's role, without
    /// Celery; on by default because it needs nothing extra here.
    public var writeAttemptsInBackground: Bool = true
    /// `DEFENDER_REDIS_URL`: `redis://[user:password@]host[:port][/db]` or `rediss://…` for TLS.
    public var redisURL: String {
        get { redisURLText.value }
        set { redisURLText.value = newValue }
    }
    /// ``redisURL``'s storage: it dumps and prints with the URL's password hidden.
    var redisURLText = ConcealedText("redis://localhost:6379/0", concealing: .url)
    /// `DEFENDER_REDIS_PASSWORD_QUOTE`: accepted for compatibility. Passwords in ``redisURL`` are always
    /// percent-decoded (RFC 3986), which is what this setting asked for.
    public var redisPasswordQuote: Bool = false
    /// `DEFENDER_REDIS_NAME`: reuse another Redis setting of the app: the name of an environment variable that
    /// holds the URL (such as `REDIS_URL`). When set, ``redisURL`` is ignored.
    public var redisName: String? = nil
    /// `DEFENDER_GET_USERNAME_FROM_REQUEST_PATH`: where the username is read. In code, integrations also take
    /// a closure.
    public var usernameSource: UsernameSource = .formField
    /// `DEFENDER_MOCK_REDIS`: use the in-memory store instead of Redis (what mockredis was for).
    public var mockRedis: Bool = false

    // MARK: Defender's own settings

    /// `DEFENDER_TRUSTED_PROXIES`: peers whose forwarding headers are believed.
    public var trustedProxies: [IPNetwork] = DefenderConfiguration.defaultTrustedProxies
    /// `DEFENDER_IPV6_PREFIX_LENGTH`: IPv6 clients are counted per prefix of this length.
    public var ipv6PrefixLength: Int = 64
    /// `DEFENDER_STORE_FAILURE_POLICY`: what happens while a shared store is unreachable.
    public var storeFailurePolicy: StoreFailurePolicy = .fallback
    /// `DEFENDER_LOCKOUT_STATUS`: 403 or 429.
    public var lockoutStatus: Int = 403
    /// `DEFENDER_MEMORY_MAX_ENTRIES`: the most keys the in-memory store holds.
    public var memoryMaxEntries: Int = 100_000
    /// `DEFENDER_STORE`: which store counts attempts.
    public var store: StoreKind = .memory
    /// `DEFENDER_SUCCESS_RESET`: what a successful login clears.
    public var successReset: SuccessReset = .own
    /// `DEFENDER_ADMISSION_TIMEOUT_MS`: how long a login waits for checks in flight on its IP or username before
    /// it is answered `503` with `Retry-After: 1`; zero answers at once.
    public var admissionTimeout: Duration = .seconds(10)
    /// `DEFENDER_RESERVATION_TTL`: the longest an admission slot is held, should its instance die before it
    /// records the outcome. Must exceed the slowest password check.
    public var reservationTTL: Duration = .seconds(30)

    // MARK: Beyond django-defender

    /// `DEFENDER_IP_ALLOWLIST`: addresses and CIDR ranges that are never counted or locked (their attempts are
    /// still logged). The deny lists win over it.
    public var ipAllowlist: [IPNetwork] = []
    /// `DEFENDER_IP_DENYLIST`: addresses and CIDR ranges refused before any password check.
    public var ipDenylist: [IPNetwork] = []
    /// `DEFENDER_USERNAME_ALLOWLIST`: usernames (normalised like logins) that are never counted or locked.
    public var usernameAllowlist: [String] = []
    /// `DEFENDER_USERNAME_DENYLIST`: usernames refused before any password check.
    public var usernameDenylist: [String] = []
    /// `DEFENDER_IP_DENYLIST_FILE`: a file of addresses and CIDR ranges (one a line, `#` comments), such as a
    /// Tor exit or open-proxy list; loaded at start and reloaded when it changes.
    public var ipDenylistFile: String? = nil
    /// `DEFENDER_IP_DENYLIST_RELOAD_INTERVAL`: how often the deny-list file is checked for changes.
    public var ipDenylistReloadInterval: Duration = .seconds(10)
    /// `DEFENDER_SPRAY_USERNAME_LIMIT`: an IP that fails on more than this many distinct usernames within
    /// ``sprayWindow`` is blocked even when no counter reached its limit (password spraying, credential
    /// stuffing). Zero: off (the default IP limit already blocks an IP after a few failures; set this when the
    /// IP limit is raised for shared addresses).
    public var sprayUsernameLimit: Int = 0
    /// `DEFENDER_SPRAY_WINDOW`: how long a failed username is remembered for ``sprayUsernameLimit``.
    public var sprayWindow: Duration = .seconds(3600)
    /// `DEFENDER_LONG_WINDOW_FAILURE_LIMIT`: failures an IP or a username may have within ``longWindow`` before it
    /// is locked, however slowly they come; zero: off. The counters of ``loginFailureLimit`` forget a key
    /// ``attemptCooloffTime`` after its last failure, so an attacker who guesses three times every five minutes
    /// never reaches them (864 guesses a day per account); this limit locks him within the day (the README's
    /// "Security model" gives the numbers), while a user who mistypes a few times a day never reaches it.
    public var longWindowFailureLimit: Int = 30
    /// `DEFENDER_LONG_WINDOW`: how far back ``longWindowFailureLimit`` counts failures (a sliding window, exact).
    public var longWindow: Duration = .seconds(86400)
    /// `DEFENDER_SHARED_IP_RANGES`: addresses and CIDR ranges that many users share (carrier-grade NAT, a
    /// corporate proxy, a campus or hotel network). For a client there, the IP dimension counts the pair of its
    /// address and the username instead of the address: an attacker behind it locks the usernames he attacks (and
    /// his pairs), never the address everyone else logs in from. The username dimension, the long window, deny
    /// lists, an operator's block of the address and ``sharedSprayUsernameLimit`` still apply.
    public var sharedIPRanges: [IPNetwork] = []
    /// `DEFENDER_SHARED_IP_RANGES_FILE`: more shared ranges, one a line (`#` comments), loaded at start and
    /// reloaded when the file changes (checked every ``ipDenylistReloadInterval``, like the deny-list file).
    public var sharedIPRangesFile: String? = nil
    /// `DEFENDER_SHARED_IP_RANGES_BUILTIN`: add the well-known shared ranges, ``builtInSharedIPRanges``
    /// (carrier-grade NAT, RFC 6598). On by default: an address there is shared by design.
    public var sharedIPRangesBuiltIn: Bool = true
    /// `DEFENDER_SHARED_SPRAY_USERNAME_LIMIT`: a shared address that fails on more than this many distinct
    /// usernames within ``sprayWindow`` is blocked as a whole (``sprayUsernameLimit`` for shared addresses). The
    /// default, 100 an hour, is far above what the honest users behind one address mistype on one site, and stops a
    /// sprayer behind it (or a misjudged range, such as an overlay network's) from trying every account; zero: off.
    public var sharedSprayUsernameLimit: Int = 100

    /// `DEFENDER_SECRET_KEY`: the keys that sign device cookies (and unlock links); the first signs, all verify,
    /// so a new key goes first and an old one stays until what it signed has expired. Empty: device cookies off.
    public var secretKeys: [DefenderSecret] = []
    /// Device cookies: a login from a browser the account's owner logged in from before is not refused by a
    /// username lockout (see ``DeviceCookieSettings``). On when ``secretKeys`` is set.
    public var deviceCookies = DeviceCookieSettings()
    /// Unlock e-mails: a locked account's owner is mailed a single-use link that lifts the lock (``UnlockMailSettings``).
    public var unlockMail = UnlockMailSettings()

    /// `DEFENDER_LOCKOUT_COOLOFF_MAX`: the longest automatic block; longer cool-offs, and permanent (`0`)
    /// ones, are cut to it. `nil`: no cap.
    public var lockoutCooloffMax: Duration? = nil
    /// `DEFENDER_LOCKOUT_JITTER`: up to this much random time is added to every automatic block (fail2ban's
    /// `bantime.rndtime`), so that bots cannot time the unlock.
    public var lockoutJitter: Duration = .zero
    /// `DEFENDER_RATELIMIT_HEADERS`: send `RateLimit-Policy` and `RateLimit` (IETF draft) on protected routes.
    public var rateLimitHeaders: Bool = false
    /// `DEFENDER_LOG_REDACT`: replace client addresses and usernames in Defender's log lines with `********`
    /// (django-axes' privacy default).
    public var redactLogs: Bool = true
    /// `DEFENDER_DRY_RUN`: count, log and publish metrics, but never refuse a request for its counters or
    /// blocks (django-axes' `LOCK_OUT_AT_FAILURE=False`): for tuning limits in production. Deny lists still
    /// refuse.
    public var dryRun: Bool = false

    /// The unrecognized `DEFENDER_*` names ``fromEnvironment(_:)`` saw (``unrecognizedEnvironmentVariables``).
    var unrecognized = Unrecognized()

    /// Loopback, private and link-local ranges: the addresses a reverse proxy usually has (Rails' default).
    public static let defaultTrustedProxies: [IPNetwork] = [
        "127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "fc00::/7",
        "fe80::/10",
    ].map { IPNetwork($0)! }

    /// Creates the default configuration, identical to django-defender's defaults.
    public init() {}

    /// Creates a configuration with the common settings; everything else keeps its default.
    public init(
        loginFailureLimit: Int = 3,
        cooloffTime: Duration = .seconds(300),
        lockOutByIPAndUsername: Bool = false,
        behindReverseProxy: Bool = false
    ) {
        self.loginFailureLimit = loginFailureLimit
        self.cooloffTime = cooloffTime
        self.lockOutByIPAndUsername = lockOutByIPAndUsername
        self.behindReverseProxy = behindReverseProxy
    }

    // MARK: Derived values

    /// The IP limit in force.
    public var ipFailureLimit: Int { loginFailureLimitIP ?? loginFailureLimit }
    /// The username limit in force.
    public var usernameFailureLimit: Int { loginFailureLimitUsername ?? loginFailureLimit }
    /// The failure-counter lifetime in force (zero: forever).
    public var effectiveAttemptCooloff: Duration { attemptCooloffTime ?? cooloffTime }
    /// The block lengths in force (zero: until unblocked).
    public var effectiveLockoutCooloffs: [Duration] { lockoutCooloffTimes ?? [cooloffTime] }
    /// The store in force: ``mockRedis`` forces the memory store.
    public var effectiveStore: StoreKind { mockRedis ? .memory : store }
}
