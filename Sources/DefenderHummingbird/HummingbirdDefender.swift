import DefenderHTTP
import Hummingbird
import Logging
import Mustache
import ServiceLifecycle

/// Defender in a Hummingbird app: the engine and its services (`DefenderRuntime`), and how this app renders
/// `LOCKOUT_TEMPLATE`. Build it once at start-up, add ``services`` to the application's services, and hand it to
/// the middleware and route wrappers.
///
/// ```swift
/// let defender = try HummingbirdDefender(configuration: .fromEnvironment(), stores: [RedisStoreFactory()])
/// let router = Router(context: BasicDefenderRequestContext.self)
/// router.add(middleware: DefenderLoginMiddleware(defender, paths: ["/login"]))
/// var app = Application(router: router)
/// app.addServices(defender.services)
/// ```
public struct HummingbirdDefender: Sendable {
    /// The engine, its templates and its services.
    public let runtime: DefenderRuntime
    /// Where `DefenderConfiguration/lockoutTemplate` is looked up (a Mustache library of the app's views); without
    /// one, a configured template is an error at start-up.
    public let views: MustacheLibrary?
    /// Whether the server itself speaks TLS, so that the device cookies it sets are `Secure` on every request (a
    /// trusted proxy's `X-Forwarded-Proto: https` makes them so otherwise). Hummingbird does not tell a handler.
    public var serverUsesTLS = false

    /// The engine.
    public var engine: Defender { runtime.engine }
    /// Every service Defender needs (the store's connections, event delivery, the deny-list reloads, the audit
    /// writer), in the order to run them: add them to the application's services.
    public var services: [any Service] { runtime.services }
    /// Block and unblock events: `defender.events.on { event in … }`.
    public var events: DefenderEventBus { runtime.engine.events }

    /// Wraps a runtime.
    /// - Throws: `DefenderError` naming `DEFENDER_LOCKOUT_TEMPLATE` when it is set and `views` does not have it.
    public init(runtime: DefenderRuntime, views: MustacheLibrary? = nil) throws {
        if let name = runtime.engine.configuration.lockoutTemplate, views?.getTemplate(named: name) == nil {
            throw DefenderError(
                .invalidConfiguration, "names '\(name)', which the app's Mustache library does not have: pass views: that hold it",
                setting: "DEFENDER_LOCKOUT_TEMPLATE")
        }
        self.runtime = runtime
        self.views = views
    }

    /// Builds the engine from `configuration` with the store `DEFENDER_STORE` names.
    /// - Parameters:
    ///   - configuration: the settings, such as `.fromEnvironment()`.
    ///   - stores: the store factories the app links (`DefenderRedis`' `RedisStoreFactory()`); the memory store
    ///     is always there.
    ///   - accessLog: the audit log (`DefenderFluent`'s `FluentAccessLog`).
    ///   - storedDenylist: a deny list kept in a database (`DefenderFluent`'s `FluentDenylist`).
    ///   - storedSharedRanges: shared ranges kept in a database (`DefenderFluent`'s `FluentSharedRanges`).
    ///   - templates: the lockout and admin pages; by default the standard ones.
    ///   - views: where `LOCKOUT_TEMPLATE` is found.
    ///   - metrics: where the engine counts; by default through the process-wide `MetricsSystem`.
    ///   - logger: Defender's log lines.
    /// - Throws: `DefenderError` for an invalid setting or a store that cannot be built.
    public init(
        configuration: DefenderConfiguration, stores: [any AttemptStoreFactory] = [], accessLog: (any AccessAttemptLog)? = nil,
        storedDenylist: (any StoredRangeList)? = nil, storedSharedRanges: (any StoredRangeList)? = nil, templates: DefenderTemplates? = nil,
        views: MustacheLibrary? = nil,
        metrics: DefenderMetrics = DefenderMetrics(), logger: Logger = Logger(label: "defender")
    ) throws {
        try configuration.validate()
        let store = try DefenderRuntime.store(for: configuration, factories: stores, metrics: metrics)
        try self.init(
            runtime: DefenderRuntime(
                configuration: configuration, store: store, accessLog: accessLog, storedDenylist: storedDenylist,
                storedSharedRanges: storedSharedRanges, templates: templates,
                metrics: metrics, logger: logger),
            views: views)
    }
}
