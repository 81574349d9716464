import Logging
import Synchronization
import ServiceLifecycle

/// Runs services (event delivery, the audit writer, deny-list reloads, the store's connections) for a framework
/// whose lifecycle has hooks rather than a `ServiceGroup` (Vapor's): at boot they start in one `ServiceGroup`,
/// and at shutdown that group shuts down gracefully, in reverse order (so the store's connections, added first,
/// close last), and the shutdown hook returns once every service has finished.
///
/// An integration registers each runner where its services are added, so it keeps the framework's order: a
/// runner registered after a database (the audit writer's) stops before that database closes. A Hummingbird app
/// adds the same services to its own `ServiceGroup` instead.
package final class DefenderServiceRunner: Sendable {
    package init() {}

    private struct State {
        var infrastructure: [any Service] = []
        var services: [any Service] = []
        var running: [(group: ServiceGroup, task: Task<Void, Never>)] = []
        var started = false
        var stopped = false
    }

    private let state = Mutex(State())

    /// Adds a service; `infrastructure` ones (the store's) start before, and stop after, all others. Added after
    /// boot, it starts at once in a group of its own.
    package func add(_ service: any Service, infrastructure: Bool = false, logger: Logger) {
        let startNow = state.withLock { state -> Bool in
            guard !state.stopped else { return false }
            if state.started { return true }
            if infrastructure { state.infrastructure.append(service) } else { state.services.append(service) }
            return false
        }
        if startNow { start([service], logger: logger) }
    }

    /// Starts every service added so far (once).
    package func start(logger: Logger) {
        let services = state.withLock { state -> [any Service] in
            guard !state.started, !state.stopped else { return [] }
            state.started = true
            return state.infrastructure + state.services
        }
        if !services.isEmpty { start(services, logger: logger) }
    }

    private func start(_ services: [any Service], logger: Logger) {
        // A service that returns early (a finished event bus) must not stop the others; one that throws is logged.
        let configurations = services.map {
            ServiceGroupConfiguration.ServiceConfiguration(service: $0, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore)
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: configurations, logger: logger))
        // Started and registered under the lock `stop()` takes: a service added while the runner stops either is
        // in the list `stop()` shuts down, or never runs (it once ran past shutdown, writing to a closed database).
        state.withLock { state in
            guard !state.stopped else { return }
            let task = Task {
                do { try await group.run() } catch { logger.error("Defender's services stopped", metadata: ["error": "\(error)"]) }
            }
            state.running.append((group, task))
        }
    }

    /// Shuts every group down gracefully, newest first, and waits for them.
    package func stop() async {
        let running = state.withLock { state in
            state.stopped = true
            defer { state.running = [] }
            return state.running
        }
        for (group, task) in running.reversed() {
            await group.triggerGracefulShutdown()
            await task.value
        }
    }

    /// Cancels every group without waiting (Vapor's synchronous shutdown hook, which cannot wait).
    package func stopWithoutWaiting() {
        let running = state.withLock { state in
            state.stopped = true
            return state.running
        }
        for (_, task) in running { task.cancel() }
    }
}
