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
    /// from `defender deny | undeny | denylist`: loads it at boot, then re-reads it every
    /// `DefenderConfiguration/ipDenylistReloadInterval` so that every instance sees the changes of the others.
    ///
    /// ```swift
    /// app.migrations.add(CreateDenylistEntry())
    /// app.defender.useStoredDenylist(FluentDenylist(database: { app.db }))
    /// ```
    public func useStoredDenylist(_ list: some StoredDenylist) {
        storage.denylistSource.withLockedValue { $0 = list }
        application.lifecycle.use(DenylistLifecycle(list: list))
        run(DefenderPoller(
            name: "stored deny list reload", interval: configuration.ipDenylistReloadInterval, startImmediately: true,
            logger: application.logger) { try await setStoredDenylist(list.networks()) })
    }

    /// The stored deny list set by `useStoredDenylist(_:)`, if any.
    public var storedDenylist: (any StoredDenylist)? { storage.denylistSource.withLockedValue { $0 } }

    /// The operator's actions on this app's engine, audit log and stored deny list (the admin and the commands).
    package func operations() throws -> DefenderOperations {
        let support = self
        return DefenderOperations(
            engine: try engine(), history: accessLog as? any AccessAttemptHistory, denylist: storedDenylist,
            applyDenylist: { support.setStoredDenylist($0) })
    }
}

/// Loads the stored deny list at boot, awaited when the app boots asynchronously (as a server does), so that it
/// is in force before the first request; the `DefenderPoller` of `DefenderSupport/useStoredDenylist(_:)` re-reads
/// it from then on.
struct DenylistLifecycle: LifecycleHandler {
    let list: any StoredDenylist

    func didBootAsync(_ application: Application) async throws {
        do {
            application.defender.setStoredDenylist(try await list.networks())
        } catch {
            // Not fatal: `migrate` itself boots the app before the table exists. The poller keeps trying.
            application.logger.error("stored deny list not loaded (run the migrations?); retrying", metadata: ["error": "\(error)"])
        }
    }
}
