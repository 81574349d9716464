import CoreMetrics
import NIOConcurrencyHelpers
import ServiceLifecycle
import Tracing
import Vapor

extension Application {
    /// Defender's configuration, store and engine for this application.
    ///
    /// ```swift
    /// app.defender.configuration = try .fromEnvironment()
    /// app.defender.use(.memory)
    /// ```
    public var defender: DefenderSupport { DefenderSupport(application: self) }
}

/// `app.defender`: configuration, store choice and the shared `Defender` engine.
public struct DefenderSupport: Sendable {
    /// Reads the username of a login request; `nil` or empty when it has none.
    public typealias UsernameExtractor = @Sendable (Request) async throws -> String?

    /// Builds the store for a configuration: `memory` or a custom one (Redis comes with `DefenderRedis`).
    public struct Provider: Sendable {
        let makeStore: @Sendable (Application, DefenderConfiguration) throws -> BuiltStore

        /// Creates a provider from a closure.
        public init(_ makeStore: @escaping @Sendable (Application, DefenderConfiguration) throws -> any AttemptStore) {
            self.makeStore = { app, config in BuiltStore(store: try makeStore(app, config)) }
        }

        /// A provider of a store with its services (a factory's).
        init(built: @escaping @Sendable (Application, DefenderConfiguration) throws -> BuiltStore) {
            self.makeStore = built
        }

        /// The bounded in-memory store (one process), capped at `DefenderConfiguration/memoryMaxEntries`.
        public static var memory: Provider {
            Provider { app, config in
                MemoryAttemptStore(capacity: config.memoryMaxEntries, clock: app.defender.clock)
            }
        }
    }

    /// The application.
    public let application: Application

    /// The settings. Set them in `configure` (before the application boots): the engine and its store are built
    /// once, at boot. Changing them afterwards is a programming error and stops the process with a message, as a
    /// second engine would build a second store beside the first.
    public var configuration: DefenderConfiguration {
        get { storage.state.withLockedValue { $0.configuration } }
        nonmutating set { rebuild { $0.configuration = newValue } }
    }

    /// The deny list kept in a database (`useStoredDenylist(_:)`); only before boot.
    var storedDenylistSource: (any StoredRangeList)? {
        get { storage.state.withLockedValue { $0.storedDenylist } }
        nonmutating set { rebuild { $0.storedDenylist = newValue } }
    }

    /// The shared ranges kept in a database (`useStoredSharedRanges(_:)`); only before boot.
    var storedSharedRangesSource: (any StoredRangeList)? {
        get { storage.state.withLockedValue { $0.storedSharedRanges } }
        nonmutating set { rebuild { $0.storedSharedRanges = newValue } }
    }

    /// Chooses the store. The default is `Provider/automatic`: the one `DEFENDER_STORE` names.
    public func use(_ provider: Provider) {
        rebuild { $0.provider = provider }
    }

    /// Changes what the engine is built from; the engine is rebuilt on next use. Only before boot.
    private func rebuild(_ change: (inout Storage.State) -> Void, caller: StaticString = #function) {
        precondition(
            !storage.isBooted.withLockedValue { $0 },
            "app.defender.\(caller) was set after the application booted; set it in configure(), before boot")
        storage.state.withLockedValue {
            change(&$0)
            $0.runtime = nil
        }
    }

    /// A custom username reader (django-defender's `GET_USERNAME_FROM_REQUEST_PATH`); `nil` uses
    /// `DefenderConfiguration/usernameSource`.
    public var usernameExtractor: UsernameExtractor? {
        get { storage.state.withLockedValue { $0.usernameExtractor } }
        nonmutating set { storage.state.withLockedValue { $0.usernameExtractor = newValue } }
    }

    /// The pages Defender renders itself (the lockout page): the standard templates unless set, e.g.
    /// `app.defender.templates = try DefenderTemplates(lockout: myPage)`. A template missing from the deployment
    /// stops start-up with a message.
    public var templates: DefenderTemplates? {
        get { storage.state.withLockedValue { $0.templates } }
        nonmutating set { rebuild { $0.templates = newValue } }
    }

    /// The templates in force: the app's, else the standard ones.
    package func templatesInForce() throws -> DefenderTemplates {
        try runtime().templates
    }

    /// The time source of the memory store; replace it in tests before first use.
    public var clock: any DefenderClock {
        get { storage.state.withLockedValue { $0.clock } }
        nonmutating set { rebuild { $0.clock = newValue } }
    }

    /// The audit log every recorded attempt goes to (`DEFENDER_STORE_ACCESS_ATTEMPTS`): `DefenderFluent`'s
    /// `FluentAccessLog`, or your own. `nil` (the default) logs nothing.
    public var accessLog: (any AccessAttemptLog)? {
        get { storage.state.withLockedValue { $0.accessLog } }
        nonmutating set { rebuild { $0.accessLog = newValue } }
    }

    /// Where Defender's metrics go: swift-prometheus' `PrometheusMetricsFactory(registry:)`, or any swift-metrics
    /// backend. `nil` (the default) uses the process-wide `MetricsSystem`. Set it before first use.
    public var metricsFactory: (any MetricsFactory)? {
        get { storage.state.withLockedValue { $0.metricsFactory } }
        nonmutating set { rebuild { $0.metricsFactory = newValue; $0.metrics = nil } }
    }

    /// Where Defender's spans go (`defender.check`, `defender.record_failure`, `defender.record_success`).
    /// `nil` (the default) uses the process-wide `InstrumentationSystem.tracer`. Set it before first use.
    public var tracer: (any Tracer)? {
        get { storage.state.withLockedValue { $0.tracer } }
        nonmutating set { rebuild { $0.tracer = newValue } }
    }

    /// The metrics of this application, created once from `metricsFactory`.
    public var metrics: DefenderMetrics {
        storage.state.withLockedValue { state in
            if let metrics = state.metrics { return metrics }
            let metrics = DefenderMetrics(factory: state.metricsFactory ?? MetricsSystem.factory)
            state.metrics = metrics
            return metrics
        }
    }

    /// Puts deny-list ranges kept elsewhere in force at once (the stored deny list of `useStoredDenylist(_:)` is
    /// applied this way whenever it is read); they also apply to an engine built later.
    public func setStoredDenylist(_ set: IPNetworkSet) {
        storage.storedDenylist.withLockedValue { $0 = set }
        storage.state.withLockedValue { $0.runtime }?.engine.accessLists.replaceStoredDenylist(set)
    }

    /// Block and unblock events: `app.defender.events.on { event in … }`.
    public var events: DefenderEventBus { storage.events }

    /// Runs a swift-service-lifecycle `Service` for the application's lifetime, beside Defender's own (event
    /// delivery, the audit writer, deny-list reloads, the store's connections): started at boot, shut down
    /// gracefully when the application stops, which waits for it. Added after boot, it starts at once.
    ///
    /// Like any lifecycle handler, it stops in reverse order of registration: run a service that uses a database
    /// after configuring that database, so that it stops first.
    public func run(_ service: any Service) {
        let runner = DefenderServiceRunner()
        runner.add(service, logger: application.logger)
        application.lifecycle.use(runner)
        if storage.isBooted.withLockedValue({ $0 }) { runner.start(logger: application.logger) }
    }

    /// The engine, built on first use from `configuration` and the chosen store.
    /// - Throws: the configuration's validation error, or the store's construction error.
    public func engine() throws -> Defender {
        try runtime().engine
    }

    /// The engine with its templates and services, built once (see `DefenderRuntime`); the services run from
    /// boot to shutdown.
    package func runtime() throws -> DefenderRuntime {
        if let runtime = storage.state.withLockedValue({ $0.runtime }) { return runtime }
        let state = storage.state.withLockedValue { $0 }
        // Built outside the lock: a provider may read `app.defender` itself.
        try state.configuration.validate()
        let store = try state.provider.makeStore(application, state.configuration)
        var logger = Logger(label: "defender")
        logger.logLevel = application.logger.logLevel
        let built = try DefenderRuntime(
            configuration: state.configuration, store: store, accessLog: state.accessLog, storedDenylist: state.storedDenylist,
            storedSharedRanges: state.storedSharedRanges, templates: state.templates, events: storage.events, metrics: metrics, tracer: state.tracer, logger: logger)
        built.engine.accessLists.replaceStoredDenylist(storage.storedDenylist.withLockedValue { $0 })
        return storage.state.withLockedValue { current in
            if let runtime = current.runtime { return runtime }
            current.runtime = built
            return built
        }
    }

    // MARK: Storage

    final class Storage: Sendable {
        struct State {
            var configuration = DefenderConfiguration()
            var provider = Provider.automatic
            var usernameExtractor: UsernameExtractor?
            var templates: DefenderTemplates?
            var clock: any DefenderClock = SystemDefenderClock()
            var accessLog: (any AccessAttemptLog)?
            var metricsFactory: (any MetricsFactory)?
            var metrics: DefenderMetrics?
            var tracer: (any Tracer)?
            var storedDenylist: (any StoredRangeList)?
            var storedSharedRanges: (any StoredRangeList)?
            var runtime: DefenderRuntime?
        }

        let state = NIOLockedValueBox(State())
        let events = DefenderEventBus()
        /// The runtime's services (the store's, event delivery, the deny-list reloads), run from `Lifecycle`.
        let services = DefenderServiceRunner()
        let isBooted = NIOLockedValueBox(false)
        let storedDenylist = NIOLockedValueBox(IPNetworkSet())
        /// Runs the stored deny list's reload, registered by `useStoredDenylist(_:)`.
        let denylistRunner = NIOLockedValueBox<DefenderServiceRunner?>(nil)
    }

    struct Key: StorageKey {
        typealias Value = Storage
    }

    var storage: Storage {
        if let existing = application.storage[Key.self] { return existing }
        let storage = Storage()
        application.storage[Key.self] = storage
        application.lifecycle.use(Lifecycle(storage: storage))
        return storage
    }

    /// Validates the configuration and builds the engine (and its store, once) at boot, then runs Defender's
    /// services (see `DefenderServiceRunner`) until shutdown, which waits for them. The sync hooks are kept
    /// working too, since `app.boot()` (used by VaporTesting) calls only those.
    struct Lifecycle: LifecycleHandler {
        let storage: Storage

        func didBoot(_ application: Application) throws {
            // Once: a second call would start a second consumer of the event stream and a second file poller.
            guard !storage.isBooted.withLockedValue({ $0 }) else { return }
            let runtime = try application.defender.runtime()
            for service in runtime.storeServices { storage.services.add(service, infrastructure: true, logger: application.logger) }
            for service in runtime.backgroundServices { storage.services.add(service, logger: application.logger) }
            if let reload = runtime.storedDenylistService {
                // In the runner registered where the list was set up, after the database: it stops before the database closes.
                (storage.denylistRunner.withLockedValue { $0 } ?? storage.services).add(reload, logger: application.logger)
            }
            storage.services.start(logger: application.logger)
            storage.isBooted.withLockedValue { $0 = true }
        }

        func didBootAsync(_ application: Application) async throws {
            let booted = storage.isBooted.withLockedValue { $0 }
            try didBoot(application)
            // In force before the first request (a server boots asynchronously; `app.boot()` gets the service's
            // first pass instead).
            if !booted { try await application.defender.runtime().loadStoredDenylist() }
        }

        func shutdown(_ application: Application) {
            storage.services.stopWithoutWaiting()
        }

        func shutdownAsync(_ application: Application) async {
            await storage.services.stop()
        }
    }
}
