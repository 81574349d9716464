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
    public func useStoredDenylist(_ list: some StoredRangeList) {
        storedDenylistSource = list
        registerStoredListsRunner()
    }

    /// The stored deny list set by `useStoredDenylist(_:)`, if any.
    public var storedDenylist: (any StoredRangeList)? { storedDenylistSource }

    /// Keeps shared ranges in `list` (`DefenderFluent`'s `FluentSharedRanges`), managed from the admin API and page
    /// and `defender share`/`unshare`, and re-read by every instance each `DEFENDER_IP_DENYLIST_RELOAD_INTERVAL`;
    /// their clients are counted by (address, username) pair, beside `DEFENDER_SHARED_IP_RANGES`. Call it in
    /// `configure`, after the databases:
    /// ```swift
    /// app.migrations.add(CreateSharedRangeEntry())
    /// app.defender.useStoredSharedRanges(FluentSharedRanges(database: { app.db }))
    /// ```
    public func useStoredSharedRanges(_ list: some StoredRangeList) {
        storedSharedRangesSource = list
        registerStoredListsRunner()
    }

    /// The stored shared ranges set by `useStoredSharedRanges(_:)`, if any.
    public var storedSharedRanges: (any StoredRangeList)? { storedSharedRangesSource }

    /// Registers, once and here (after the app's databases), the runner of the stored lists' reload, so that Vapor
    /// stops it before it closes them.
    private func registerStoredListsRunner() {
        let runner: DefenderServiceRunner? = storage.denylistRunner.withLockedValue { existing in
            guard existing == nil else { return nil }
            let runner = DefenderServiceRunner()
            existing = runner
            return runner
        }
        if let runner { application.lifecycle.use(runner) }
    }

    /// The operator's actions on this app's engine, audit log and stored deny list (the admin and the commands).
    package func operations() throws -> DefenderOperations {
        try runtime().operations()
    }
}
