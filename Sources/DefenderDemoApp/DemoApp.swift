@_exported import DefenderDemoSupport
import DefenderFluent
import DefenderRedis
import DefenderVapor
import Fluent
import FluentPostgresDriver
import FluentSQL
import FluentSQLiteDriver
import Prometheus
import Vapor

/// The demo site: a login form, a JSON login, HTTP Basic and password reset protected by Defender, on SQLite or
/// PostgreSQL, with the audit log.
public enum DemoApp {
    /// Configures `app` from `environment`: database, migrations (applied now), sessions, Defender, routes and
    /// commands.
    /// - Throws: ``DefenderError`` for a bad setting, or the database's error.
    public static func configure(_ app: Application, environment: [String: String] = ProcessInfo.processInfo.environment) async throws {
        let settings = try DemoSettings.fromEnvironment(environment)
        switch settings.database {
        case .sqliteFile(let path): app.databases.use(.sqlite(.file(path)), as: .sqlite)
        case .sqliteMemory: app.databases.use(.sqlite(.memory), as: .sqlite)
        case .postgres(let url):
            do {
                app.databases.use(try .postgres(url: url), as: .psql)
            } catch {
                // The URL is not echoed: it may hold a password.
                throw DefenderError(.invalidConfiguration, "is not a valid postgres://user:password@host:port/database URL", setting: "DATABASE_URL")
            }
        }
        app.defender.configuration = settings.defender
        app.migrations.add(User.Migration(), User.AddEmail())
        app.migrations.add(SessionRecord.migration)
        app.migrations.add(CreateAccessAttempt(), CreateDenylistEntry(), CreateSharedRangeEntry())
        // defender_access_attempts, written in the background (DEFENDER_USE_CELERY), read by the admin
        app.defender.useAccessLog(FluentAccessLog(
            database: { app.db }, inBackground: settings.defender.writeAttemptsInBackground, logger: app.logger))
        // defender_denylist: the admin's and `defender deny`'s ranges
        app.defender.useStoredDenylist(FluentDenylist(database: { app.db }))
        app.defender.useStoredSharedRanges(FluentSharedRanges(database: { app.db }))
        // This app's own registry, served at GET /metrics (the process-wide MetricsSystem is left alone).
        let registry = PrometheusCollectorRegistry()
        app.defender.metricsFactory = PrometheusMetricsFactory(registry: registry)
        app.storage[MetricsRegistryKey.self] = registry
        // DEFENDER_STORE=memory|redis, DEFENDER_REDIS_URL: the Redis store comes from DefenderRedis.
        app.defender.use(.automatic(RedisStoreFactory(eventLoopGroup: app.eventLoopGroup)))
        // Built before the database is touched: a bad setting (an unreadable deny-list file) stops start-up
        // with its one line, before any migration runs.
        _ = try app.defender.engine()
        if case .sqliteFile = settings.database, let sql = app.db as? any SQLDatabase {
            // Write-ahead logging: readers no longer block writers, and concurrent writers (sessions, the audit
            // log) stop spinning in SQLite's busy handler — a profile of the load test found ~30 % of the CPU there.
            try await sql.raw("PRAGMA journal_mode=WAL").run()
        }
        try await app.autoMigrate()

        // Bodies up to 16 KiB, as the Hummingbird demo's `maxUploadSize`: Vapor refuses a body that *reaches* its
        // limit (`>=`), so the limit is one byte more for a 16,384-byte body to be read by both.
        app.routes.defaultMaxBodySize = ByteCount(value: 16 * 1024 + 1)
        app.sessions.use(.fluent)
        app.sessions.configuration.cookieName = DemoPages.sessionCookieName
        // Session cookies: not readable by scripts, not sent on cross-site POSTs, and Secure over TLS (added per
        // request by SecureCookiesMiddleware, which wraps the sessions middleware).
        app.sessions.configuration.cookieFactory = { id in
            HTTPCookies.Value(string: id.string, path: "/", isSecure: false, isHTTPOnly: true, sameSite: .lax)
        }
        // One shape for every error (in place of Vapor's ErrorMiddleware), outermost so that it sees them all.
        app.middleware = Middlewares()
        app.middleware.use(DemoErrorMiddleware())
        app.middleware.use(BodyLimitMiddleware())
        app.middleware.use(SecureCookiesMiddleware())
        app.middleware.use(app.sessions.middleware)
        app.middleware.use(UnknownSessionMiddleware())
        if settings.sha256Passwords {
            app.passwords.use { _ in LoadTestHasher() }
        } else {
            app.passwords.use(.bcrypt(cost: settings.bcryptCost))
        }

        // Unknown usernames are checked against this hash, so they cost the same time as known ones.
        let cost = settings.bcryptCost
        let sha = settings.sha256Passwords
        let dummy = try await app.threadPool.runIfActive {
            sha ? LoadTestHash.hash(Array(DemoAccounts.dummyPassword.utf8)) : try Bcrypt.hash(DemoAccounts.dummyPassword, cost: cost)
        }
        app.storage[DummyHashKey.self] = dummy
        app.storage[Application.OutboxKey.self] = PasswordResetOutbox(logger: app.logger, showsUsernames: !app.defender.configuration.redactLogs)
        app.storage[SettingsKey.self] = settings

        if let webhook = settings.webhookURL { DefenderWebhookNotifier(url: URI(string: webhook), secret: settings.webhookSecret).register(on: app) }

        // DEFENDER_SMTP_URL: a locked account's owner is mailed a single-use unlock link (GET/POST /unlock/<token>).
        let server = app.http.server
        if let unlockMail = try DemoUnlockMail.service(
            defender: try app.defender.engine(),
            // The running server's own configuration and socket: `serve --hostname/--port` (and port 0) change
            // those, not `app.http.server.configuration`.
            publicURL: {
                let running = server.shared
                return "http://\(running.configuration.hostname):\(running.localAddress?.port ?? running.configuration.port)"
            },
            emailAddress: { username in try await User.emailAddress(of: username, on: app.db) })
        {
            app.defender.run(unlockMail)
        }

        try routes(app)
        app.asyncCommands.use(CreateUserCommand(), as: "create-user")
        app.defender.useCommands()  // defender cleanup | blocks | block | unblock
    }

    /// Adds a user (the `create-user` command).
    /// - Throws: `DefenderError.invalidKey` for an empty name or password, or the database's error (such as a
    ///   duplicate name).
    public static func createUser(_ app: Application, name: String, password: String, admin: Bool, email: String? = nil) async throws {
        let username = try DemoAccounts.validate(name: name, password: password)
        let address = try DemoAccounts.validate(email: email)
        let hash = try await app.password.async.hash(password).get()
        try await User(username: username, passwordHash: hash, isAdmin: admin, email: address).create(on: app.db)
    }

    struct DummyHashKey: StorageKey { typealias Value = String }
    struct SettingsKey: StorageKey { typealias Value = DemoSettings }
}

/// `defender-demo create-user NAME PASSWORD [--admin] [--email ADDRESS]`.
struct CreateUserCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "name", help: "The username.")
        var name: String
        @Argument(name: "password", help: "The password.")
        var password: String
        @Flag(name: "admin", help: "Make the user an administrator.")
        var admin: Bool
        @Option(name: "email", help: "The address unlock e-mails go to.")
        var email: String?
    }

    var help: String { "Adds a user to the demo's database." }

    func run(using context: CommandContext, signature: Signature) async throws {
        try await DemoApp.createUser(context.application, name: signature.name, password: signature.password, admin: signature.admin, email: signature.email)
        context.console.print(DemoAccounts.createdMessage(name: signature.name, admin: signature.admin))
    }
}
