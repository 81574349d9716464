import DefenderCore
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// Defender's long-lived work as swift-service-lifecycle services, in a `ServiceGroup` as a Hummingbird app runs
/// them: each returns on graceful shutdown, and nothing queued is lost.
struct ServiceTests {
    @Test func eventBusDeliversWhatIsQueuedThenReturnsOnGracefulShutdown() async throws {
        let bus = DefenderEventBus()
        let delivered = Mutex(0)
        bus.on { _ in
            try? await Task.sleep(for: .milliseconds(1))
            delivered.withLock { $0 += 1 }
        }
        let group = ServiceGroup(services: [bus], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            for index in 0..<50 { bus.emit(DefenderEvent(key: DefenderKey(kind: .ip, normalizedValue: "10.0.0.\(index)"), blocked: true)) }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(delivered.withLock { $0 } == 50)
    }

    @Test(.timeLimit(.minutes(1))) func pollerRunsPassesAndStopsBetweenThem() async throws {
        let passes = Mutex(0)
        let slowPasses = Mutex(0)
        let slow = DefenderPoller(name: "hourly", interval: .seconds(3600), startImmediately: true) { slowPasses.withLock { $0 += 1 } }
        let poller = DefenderPoller(name: "test", interval: .milliseconds(10), startImmediately: true) {
            passes.withLock { $0 += 1 }
            struct Failure: Error {}
            throw Failure()  // a failing pass is logged; the poller keeps going
        }
        let group = ServiceGroup(services: [poller, slow], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            while passes.withLock({ $0 }) < 3 || slowPasses.withLock({ $0 }) < 1 { try await Task.sleep(for: .milliseconds(5)) }
            // The hourly poller's pause ends at once on graceful shutdown (else this test would hit its time limit).
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(passes.withLock { $0 } >= 3)
        #expect(slowPasses.withLock { $0 } == 1)
    }
}
