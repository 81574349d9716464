import DefenderCore
import Logging
import ServiceLifecycle
import Tracing

/// Defender for one application, framework-neutral: the engine built once from the settings and a store, the
/// pages it renders, the deny lists it reloads, and the background work it needs as swift-service-lifecycle
/// services. Vapor's `app.defender` builds one at boot; a Hummingbird app builds one and adds ``services`` to its
/// `ServiceGroup`.
public final class DefenderRuntime: Sendable {
    /// The engine.
    public let engine: Defender
    /// The lockout and admin pages.
    public let templates: DefenderTemplates
    /// The deny list kept in a database, if the app keeps one.
    public let storedDenylist: (any StoredRangeList)?
    /// The shared ranges kept in a database, if the app keeps them.
    public let storedSharedRanges: (any StoredRangeList)?
    /// The audit log read back by the admin and `defender cleanup` (even while `DEFENDER_STORE_ACCESS_ATTEMPTS`
    /// is off, so that old rows can still be seen and pruned).
    let history: (any AccessAttemptHistory)?
    /// The store's own services (its connections): run them first, so that they stop last.
    public let storeServices: [any Service]
    /// Event delivery and the deny-list file's reload.
    public let backgroundServices: [any Service]
    /// The stored deny list's reload (and the stored shared ranges'), which reads the database: run it after the
    /// database is set up, so that it stops before the database closes.
    public let storedDenylistService: (any Service)?
    /// The audit log, when it is a service itself (`FluentAccessLog` writes its queue in the background).
    public let accessLogService: (any Service)?
    /// Each stored list's reload, ordered over its overlapping callers (the periodic one, the one at boot, an
    /// operator's): an older read is never put in force over a newer one (``OrderedReload``).
    private let reloads: [DefenderOperations.RangeList: StoredListReload]

    /// Every service, in the order to run them (a `ServiceGroup` stops them in reverse): the store's, then event
    /// delivery and the reloads, then the audit log.
    public var services: [any Service] { storeServices + backgroundServices + [storedDenylistService, accessLogService].compactMap { $0 } }

    /// Builds the engine and its services.
    /// - Parameters:
    ///   - configuration: the settings; validated here.
    ///   - store: the store and its services; by default the bounded in-memory store. See
    ///     ``DefenderRuntime/store(for:factories:clock:metrics:)`` for the one `DEFENDER_STORE` names.
    ///   - accessLog: receives every recorded attempt (`DEFENDER_STORE_ACCESS_ATTEMPTS`); one that can be read
    ///     back (`AccessAttemptHistory`) also feeds the admin and `defender cleanup`.
    ///   - storedDenylist: a deny list kept in a database, loaded by ``loadStoredDenylist()`` and re-read every
    ///     `DefenderConfiguration/ipDenylistReloadInterval`.
    ///   - storedSharedRanges: shared ranges kept in a database, loaded and re-read alike.
    ///   - templates: the pages; by default the standard ones.
    ///   - events: the bus that delivers block and unblock events.
    ///   - metrics: where the engine counts.
    ///   - tracer: where spans go; by default the process-wide tracer.
    ///   - logger: Defender's log lines.
    /// - Throws: `DefenderError` for an invalid setting, a deny-list file that cannot be read, or templates missing
    ///   from the deployment.
    public init(
        configuration: DefenderConfiguration, store: BuiltStore? = nil, accessLog: (any AccessAttemptLog)? = nil,
        storedDenylist: (any StoredRangeList)? = nil, storedSharedRanges: (any StoredRangeList)? = nil, templates: DefenderTemplates? = nil,
        events: DefenderEventBus = DefenderEventBus(),
        metrics: DefenderMetrics = DefenderMetrics(), tracer: (any Tracer)? = nil, logger: Logger = Logger(label: "defender")
    ) throws {
        try configuration.validate()
        // Fails start-up, not the first lockout, when the templates were deployed without their resources.
        self.templates = try templates ?? DefenderTemplates.standard()
        let store = store ?? BuiltStore(store: MemoryAttemptStore(capacity: configuration.memoryMaxEntries))
        let engine = Defender(
            configuration: configuration, store: store.store, events: events, accessLog: accessLog, metrics: metrics, logger: logger,
            tracer: tracer)
        self.engine = engine
        self.storedDenylist = storedDenylist
        self.storedSharedRanges = storedSharedRanges
        self.history = accessLog as? any AccessAttemptHistory
        self.storeServices = store.services
        self.accessLogService = configuration.storeAccessAttempts ? accessLog as? any Service : nil
        if configuration.storeAccessAttempts && accessLog == nil {
            // A setting that does nothing must not do so silently: it is on by default, as in django-defender.
            logger.warning(
                "DEFENDER_STORE_ACCESS_ATTEMPTS is on (the default) but no audit log is configured, so attempts are written nowhere: give Defender an access log (DefenderFluent's FluentAccessLog), or set DEFENDER_STORE_ACCESS_ATTEMPTS=false")
        }
        for name in configuration.unrecognizedEnvironmentVariables {
            // A misspelt setting leaves the real one at its default: said once, by name (never the value).
            let hint = DefenderConfiguration.suggestion(for: name).map { "; did you mean \($0)?" } ?? "; DefenderConfiguration.environmentVariables lists the settings"
            logger.warning("\(name) is set but is not a Defender setting, so it changes nothing\(hint)")
        }
        for warning in configuration.warnings {
            logger.warning("\(warning.setting) \(warning.message)")
        }
        var background: [any Service] = [events]
        if let path = configuration.ipDenylistFile {
            let watcher = RangeFileWatcher(
                path: path, setting: "DEFENDER_IP_DENYLIST_FILE", name: "deny-list file", interval: configuration.ipDenylistReloadInterval, logger: logger)
            try watcher.loadAtBoot()
            engine.accessLists.replaceFileDenylist(watcher.set)
            background.append(DefenderPoller(name: "deny-list file reload", interval: configuration.ipDenylistReloadInterval, logger: logger) {
                await watcher.reload { engine.accessLists.replaceFileDenylist($0) }
            })
        }
        if let path = configuration.sharedIPRangesFile {
            let watcher = RangeFileWatcher(
                path: path, setting: "DEFENDER_SHARED_IP_RANGES_FILE", name: "shared-ranges file", interval: configuration.ipDenylistReloadInterval,
                logger: logger)
            try watcher.loadAtBoot()
            engine.sharedRanges.replaceFileRanges(watcher.set)
            background.append(DefenderPoller(name: "shared-ranges file reload", interval: configuration.ipDenylistReloadInterval, logger: logger) {
                await watcher.reload { engine.sharedRanges.replaceFileRanges($0) }
            })
        }
        self.backgroundServices = background
        var reloads: [DefenderOperations.RangeList: StoredListReload] = [:]
        if let storedDenylist {
            reloads[.denylist] = StoredListReload(list: storedDenylist) { engine.accessLists.replaceStoredDenylist($0) }
        }
        if let storedSharedRanges {
            reloads[.sharedRanges] = StoredListReload(list: storedSharedRanges) { engine.sharedRanges.replaceStoredRanges($0) }
        }
        self.reloads = reloads
        let all = [reloads[.denylist], reloads[.sharedRanges]].compactMap { $0 }
        self.storedDenylistService = all.isEmpty ? nil
            : DefenderPoller(name: "stored range lists reload", interval: configuration.ipDenylistReloadInterval, startImmediately: true, logger: logger) {
                for reload in all { try await reload.run() }
            }
    }

    /// Reads one stored list and puts it in force, unless a read that began later is in force already.
    package func reload(_ list: DefenderOperations.RangeList) async throws {
        try await reloads[list]?.run()
    }

    /// Reads the stored deny list now and puts it in force, so that it applies before the first request (the
    /// reload service keeps it fresh from then on). A list that cannot be read — the table does not exist yet
    /// while migrations run — is logged and retried by the service, not fatal.
    /// The stored shared ranges are loaded with it.
    public func loadStoredDenylist() async {
        do {
            try await reload(.denylist)
            try await reload(.sharedRanges)
        } catch {
            engine.logger.error("stored range lists not loaded (run the migrations?); retrying", metadata: ["error": "\(error)"])
        }
    }

    /// The operator's actions on this engine, its audit log and its stored deny list.
    package func operations() -> DefenderOperations {
        DefenderOperations(
            engine: engine, history: history, denylist: storedDenylist, sharedRanges: storedSharedRanges, reload: { [self] in try await reload($0) })
    }

    /// The store `DEFENDER_STORE` names: the memory store for `memory` (or `DEFENDER_MOCK_REDIS`), else the one
    /// the factory of that kind among `factories` builds (`DefenderRedis`' `RedisStoreFactory()` for `redis`).
    /// - Throws: `DefenderError` naming `DEFENDER_STORE` when no factory builds that kind, or the factory's error.
    public static func store(
        for configuration: DefenderConfiguration, factories: [any AttemptStoreFactory], clock: any DefenderClock = SystemDefenderClock(),
        metrics: DefenderMetrics? = nil
    ) throws -> BuiltStore {
        let kind = configuration.effectiveStore
        if kind == .memory { return BuiltStore(store: MemoryAttemptStore(capacity: configuration.memoryMaxEntries, clock: clock)) }
        guard let factory = factories.first(where: { $0.kind == kind }) else {
            throw DefenderError(
                .invalidConfiguration,
                "is '\(kind)', but this app cannot build that store: depend on DefenderRedis and pass RedisStoreFactory() "
                    + "(Vapor: app.defender.use(.automatic(RedisStoreFactory()))), or set DEFENDER_STORE=memory",
                setting: "DEFENDER_STORE")
        }
        return try factory.makeStore(configuration: configuration, fallbackClock: clock, metrics: metrics)
    }
}
