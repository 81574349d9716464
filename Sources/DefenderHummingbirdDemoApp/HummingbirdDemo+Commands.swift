import DefenderHummingbird
import ServiceLifecycle

extension HummingbirdDemo {
    /// Runs an operator command (`defender cleanup | blocks | block | unblock | deny | undeny | denylist`) with
    /// Defender's services running (the Redis connections, the audit writer), and stops them after.
    /// - Returns: the text to print.
    package func runOperatorCommand(_ body: @Sendable (OperatorCommands) async throws -> String) async throws -> String {
        let group = ServiceGroup(configuration: .init(services: defender.services, logger: logger))
        return try await withThrowingTaskGroup(of: String?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            defer { tasks.cancelAll() }
            do {
                let text = try await body(OperatorCommands(defender.runtime.operations()))
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return text
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }
}
