import DefenderVapor
import Testing
import Vapor
import VaporTesting

/// `DEFENDER_STORE` is honoured or refused out loud: this module cannot build Redis by itself, so `redis` without a
/// factory stops start-up with a message naming the variable and what to add.
@Suite struct StoreChoiceTests {
    @Test func redisWithoutAFactoryIsAStartUpError() async throws {
        try await withApp { (app) async throws in
            var config = DefenderConfiguration()
            config.store = .redis
            app.defender.configuration = config
            #expect {
                try app.defender.engine()
            } throws: { error in
                let error = error as? DefenderError
                return error?.code == .invalidConfiguration && error?.setting == "DEFENDER_STORE"
                    && error?.description.contains("RedisStoreFactory") == true
            }
        }
    }

    @Test func memoryIsTheDefault() async throws {
        try await withApp { (app) async throws in
            #expect(try app.defender.engine().store is MemoryAttemptStore)
            let health = try app.defender.health()
            #expect(health.status == "ok" && health.store == "memory" && !health.refusingLogins)
        }
    }
}
