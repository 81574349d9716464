import DefenderVapor
import Fluent
import NIOConcurrencyHelpers
import Vapor

extension DefenderSupport {
    /// Writes every recorded attempt to `defender_access_attempts` in the app's default database (or `id`),
    /// adds the table's migration, and runs the background writer for the app's lifetime; graceful shutdown
    /// writes every queued row. Call after setting ``configuration`` (its `writeAttemptsInBackground` and
    /// `storeAccessAttempts` apply).
    @discardableResult
    public func useFluentAccessLog(database id: DatabaseID? = nil) -> FluentAccessLog {
        let app = application
        app.migrations.add(CreateAccessAttempt())
        let log = FluentAccessLog(
            database: { app.db(id) }, inBackground: configuration.writeAttemptsInBackground, logger: app.logger)
        accessLog = log
        app.lifecycle.use(AccessLogLifecycle(log: log))
        return log
    }

    /// The Fluent audit log set by ``useFluentAccessLog(database:)``, if any.
    public var fluentAccessLog: FluentAccessLog? { accessLog as? FluentAccessLog }
}

/// Runs the writer from boot and drains it at shutdown (before Fluent closes its databases).
final class AccessLogLifecycle: LifecycleHandler, Sendable {
    let log: FluentAccessLog
    private let task = NIOLockedValueBox<Task<Void, Never>?>(nil)

    init(log: FluentAccessLog) { self.log = log }

    func didBoot(_ application: Application) throws {
        let log = self.log
        task.withLockedValue { task in
            if task == nil { task = Task { await log.run() } }
        }
    }

    func didBootAsync(_ application: Application) async throws { try didBoot(application) }

    func shutdownAsync(_ application: Application) async {
        await log.shutdown()
        await task.withLockedValue { $0 }?.value
    }

    func shutdown(_ application: Application) {
        // Synchronous shutdown cannot wait for the database; Vapor 4 apps shut down asynchronously.
    }
}
