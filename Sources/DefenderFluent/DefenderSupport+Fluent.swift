import DefenderVapor
import Fluent
import Vapor

extension DefenderSupport {
    /// Writes every recorded attempt to `defender_access_attempts` in the app's default database (or `id`),
    /// adds the table's migration, and runs the background writer for the app's lifetime; graceful shutdown
    /// writes every queued row. Call after setting `configuration` (its `writeAttemptsInBackground` and
    /// `storeAccessAttempts` apply).
    @discardableResult
    public func useFluentAccessLog(database id: DatabaseID? = nil) -> FluentAccessLog {
        let app = application
        app.migrations.add(CreateAccessAttempt())
        let log = FluentAccessLog(
            database: { app.db(id) }, inBackground: configuration.writeAttemptsInBackground, logger: app.logger)
        accessLog = log
        run(log)
        return log
    }

    /// The Fluent audit log set by `useFluentAccessLog(database:)`, if any.
    public var fluentAccessLog: FluentAccessLog? { accessLog as? FluentAccessLog }
}
