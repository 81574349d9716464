import DefenderHTTP
import ServiceLifecycle
import Vapor

extension DefenderSupport {
    /// Writes every recorded attempt to `log` (`DEFENDER_STORE_ACCESS_ATTEMPTS`) and runs it for the app's
    /// lifetime; graceful shutdown waits for it (`DefenderFluent`'s `FluentAccessLog` writes every queued row).
    /// A log that can be read back (`AccessAttemptHistory`) also feeds the admin's attempts and `defender cleanup`.
    ///
    /// ```swift
    /// app.migrations.add(CreateAccessAttempt())
    /// app.defender.useAccessLog(FluentAccessLog(database: { app.db }))
    /// ```
    public func useAccessLog(_ log: some AccessAttemptLog & Service) {
        accessLog = log
        run(log)
    }

    /// Keeps a deny list in `list` (`DefenderFluent`'s `FluentDenylist`), managed from the admin API and page and
    /// from `defender deny | undeny | denylist`: loaded at boot, then re-read every
    /// `DefenderConfiguration/ipDenylistReloadInterval` so that every instance sees the changes of the others.
    ///
    /// ```swift
    /// app.migrations.add(CreateDenylistEntry())
    /// app.defender.useStoredDenylist(FluentDenylist(database: { app.db }))
    /// ```
    public func useStoredDenylist(_ list: some StoredDenylist) {
        storedDenylistSource = list
        // Registered here, after the app's databases, so that Vapor stops the reload before it closes them.
        let runner = DefenderServiceRunner()
        storage.denylistRunner.withLockedValue { $0 = runner }
        application.lifecycle.use(runner)
    }

    /// The stored deny list set by `useStoredDenylist(_:)`, if any.
    public var storedDenylist: (any StoredDenylist)? { storedDenylistSource }

    /// The operator's actions on this app's engine, audit log and stored deny list (the admin and the commands).
    package func operations() throws -> DefenderOperations {
        try runtime().operations()
    }
}
