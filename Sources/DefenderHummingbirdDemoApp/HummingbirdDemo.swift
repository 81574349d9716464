import DefenderDemoSupport
import DefenderFluent
import DefenderHummingbird
import DefenderRedis
import FluentKit
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import Hummingbird
import HummingbirdAuth
import HummingbirdBcrypt
import Logging
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
import Synchronization

/// The Hummingbird demo site: the same routes, settings, commands and answers as the Vapor demo (`DemoPages`), on
/// SQLite or PostgreSQL through FluentKit, with Hummingbird's sessions kept in the same database.
public struct HummingbirdDemo: Sendable {
    /// The demo's settings (`DATABASE_URL`, `DEMO_*`, and every `DEFENDER_*`).
    public let settings: DemoSettings
    /// Defender: engine, services, templates.
    public let defender: HummingbirdDefender
    /// The (pretend) password-reset e-mails.
    public let outbox: PasswordResetOutbox
    /// The database connections (closed by ``shutdown()``, or by the service ``application(hostname:port:onServerRunning:)`` runs).
    let databases: Databases
    let sessionStorage: SessionStorage<DemoSession>
    let registry: PrometheusCollectorRegistry
    let dummyHash: String
    let logger: Logger
    /// Mails unlock links (`DEFENDER_SMTP_URL`), run beside Defender's services.
    let unlockMail: UnlockMailService?
    /// The address the site listens on, set by ``application(hostname:port:onServerRunning:)``: the links' default base.
    let listeningURL: ListeningURL

    /// The demo's database.
    public var database: any Database { Self.database(databases, logger) }

    /// Reads the settings, opens the database and applies the migrations, and builds Defender (its stored deny
    /// list loaded).
    /// - Throws: ``DefenderError`` for a bad setting, or the database's error.
    public static func make(environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger = Logger(label: "defender-demo")) async throws -> HummingbirdDemo {
        let settings = try DemoSettings.fromEnvironment(environment)
        let databases = Databases(threadPool: NIOThreadPool.singleton, on: MultiThreadedEventLoopGroup.singleton)
        do {
            return try await make(settings: settings, databases: databases, logger: logger)
        } catch {
            await databases.shutdownAsync()
            throw error
        }
    }

    static func make(settings: DemoSettings, databases: Databases, logger: Logger) async throws -> HummingbirdDemo {
        switch settings.database {
        case .sqliteFile(let path): databases.use(.sqlite(.file(path)), as: .sqlite)
        case .sqliteMemory: databases.use(.sqlite(.memory), as: .sqlite)
        case .postgres(let url):
            do {
                databases.use(try .postgres(url: url), as: .psql)
            } catch {
                // The URL is not echoed: it may hold a password.
                throw DefenderError(.invalidConfiguration, "is not a valid postgres://user:password@host:port/database URL", setting: "DATABASE_URL")
            }
        }
        let db = { @Sendable in database(databases, logger) }
        // Built before the database is touched: a bad setting (an unreadable deny-list file) stops start-up with its
        // one line, before any migration runs.
        let registry = PrometheusCollectorRegistry()
        let defender = try HummingbirdDefender(
            configuration: settings.defender, stores: [RedisStoreFactory()],
            accessLog: FluentAccessLog(database: db, inBackground: settings.defender.writeAttemptsInBackground, logger: logger),
            storedDenylist: FluentDenylist(database: db), storedSharedRanges: FluentSharedRanges(database: db), metrics: DefenderMetrics(factory: PrometheusMetricsFactory(registry: registry)),
            logger: logger)
        if case .sqliteFile = settings.database, let sql = db() as? any SQLDatabase {
            // Write-ahead logging, as in the Vapor demo: readers no longer block writers.
            try await sql.raw("PRAGMA journal_mode=WAL").run()
        }
        let migrations = Migrations()
        migrations.add(User.Migration(), User.AddEmail(), PersistedValue.Migration(), CreateAccessAttempt(), CreateDenylistEntry(), CreateSharedRangeEntry())
        let migrator = Migrator(databases: databases, migrations: migrations, logger: logger, on: MultiThreadedEventLoopGroup.singleton.any())
        try await migrator.setupIfNeeded().get()
        try await migrator.prepareBatch().get()

        await defender.runtime.loadStoredDenylist()
        if let webhook = settings.webhookURL { WebhookNotifier(url: webhook, secret: settings.webhookSecret).register(on: defender, logger: logger) }
        let cost = settings.bcryptCost
        let sha = settings.sha256Passwords
        let dummy = try await NIOThreadPool.singleton.runIfActive {
            sha ? LoadTestHash.hash(Array(DemoAccounts.dummyPassword.utf8)) : Bcrypt.hash(DemoAccounts.dummyPassword, cost: UInt8(cost))
        }
        // Session cookies: not readable by scripts, not sent on cross-site POSTs; `Secure` is added per request
        // over TLS (SecureCookiesMiddleware).
        let sessionStorage = SessionStorage<DemoSession>(
            FluentPersistDriver(database: db),
            configuration: .init(sessionCookieParameters: .init(name: DemoPages.sessionCookieName, path: "/", secure: false, sameSite: .lax)))
        let listeningURL = ListeningURL()
        let unlockMail = try DemoUnlockMail.service(
            defender: defender.engine, publicURL: { listeningURL.value },
            emailAddress: { username in try await User.emailAddress(of: username, on: db()) })
        return HummingbirdDemo(
            settings: settings, defender: defender, outbox: PasswordResetOutbox(logger: logger, showsUsernames: !defender.engine.configuration.redactLogs), databases: databases,
            sessionStorage: sessionStorage, registry: registry, dummyHash: dummy, logger: logger, unlockMail: unlockMail,
            listeningURL: listeningURL)
    }

    static func database(_ databases: Databases, _ logger: Logger) -> any Database {
        // A database is always configured by `make` before this is called.
        databases.database(logger: logger, on: databases.eventLoopGroup.any())!
    }

    /// The site on `hostname:port`, with Defender's services and the database in its service group: on SIGTERM
    /// or SIGINT the server stops first, then Defender (audit rows flushed), then the database.
    public func application(
        hostname: String = "127.0.0.1", port: Int = 8080, onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        var app = Application(
            router: router(), configuration: .init(address: .hostname(hostname, port: port), serverName: nil),
            onServerRunning: onServerRunning, logger: logger)
        app.addServices(DatabaseService(databases: databases))
        app.addServices(defender.services)
        if let unlockMail { app.addServices(unlockMail) }
        listeningURL.set("http://\(hostname):\(port)")
        return app
    }

    /// Closes the database (when no application ran, such as after a command).
    public func shutdown() async {
        await databases.shutdownAsync()
    }

    /// Adds a user (the `create-user` command).
    /// - Throws: `DefenderError.invalidKey` for an empty name or password, or the database's error (such as a
    ///   duplicate name).
    public func createUser(name: String, password: String, admin: Bool, email: String? = nil) async throws {
        let username = try DemoAccounts.validate(name: name, password: password)
        let address = try DemoAccounts.validate(email: email)
        let cost = settings.bcryptCost
        let sha = settings.sha256Passwords
        let hash = try await NIOThreadPool.singleton.runIfActive {
            sha ? LoadTestHash.hash(Array(password.utf8)) : Bcrypt.hash(password, cost: UInt8(cost))
        }
        try await User(username: username, passwordHash: hash, isAdmin: admin, email: address).create(on: database)
    }

    /// Checks a password off the event loop. Unknown users are checked against a dummy hash of the same cost, so
    /// that the answer's timing does not reveal which accounts exist.
    func authenticate(username: String?, password: String?) async throws -> User? {
        let user = try await User.named(username, on: database)
        let password = password ?? ""
        let digest = user?.passwordHash ?? dummyHash
        let sha = settings.sha256Passwords
        let verified = try await NIOThreadPool.singleton.runIfActive {
            sha ? LoadTestHash.verify(Array(password.utf8), stored: digest) : Bcrypt.verify(password, hash: digest)
        }
        return verified && !password.isEmpty ? user : nil
    }

    /// The Prometheus text of the demo's own registry.
    var metricsText: String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}

/// Closes the database after everything that writes to it has stopped (it runs first, so it stops last).
struct DatabaseService: Service {
    let databases: Databases

    func run() async throws {
        try? await gracefulShutdown()
        await databases.shutdownAsync()
    }
}

/// The address the demo listens on, known once the application is made.
final class ListeningURL: Sendable {
    private let box = Mutex("http://127.0.0.1:8080")

    var value: String { box.withLock { $0 } }

    func set(_ url: String) { box.withLock { $0 = url } }
}
