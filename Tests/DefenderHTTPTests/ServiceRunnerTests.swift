import DefenderHTTP
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// Vapor's lifecycle runs Defender's services through `DefenderServiceRunner`: a service added at the moment the
/// runner stops must either be shut down with the others or never run — never outlive shutdown.
@Suite struct ServiceRunnerTests {
    final class Probe: Service {
        let running = Atomic<Int>(0)
        func run() async throws {
            running.add(1, ordering: .relaxed)
            defer { running.subtract(1, ordering: .relaxed) }
            try? await gracefulShutdown()
        }
    }

    @Test func aServiceAddedWhileStoppingNeverOutlivesShutdown() async throws {
        let logger = Logger(label: "test")
        for round in 0..<300 {
            let runner = DefenderServiceRunner()
            runner.start(logger: logger)
            let probe = Probe()
            async let added: Void = runner.add(probe, logger: logger)
            async let stopped: Void = runner.stop()
            _ = await (added, stopped)
            var left = probe.running.load(ordering: .relaxed)
            for _ in 0..<100 where left > 0 {
                try await Task.sleep(for: .milliseconds(10))
                left = probe.running.load(ordering: .relaxed)
            }
            #expect(left == 0, "round \(round): a service runs after stop()")
            if left > 0 { return }
        }
    }
}
