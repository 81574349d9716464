import DefenderDemoApp
import DefenderTesting
import DefenderVapor
import Testing
import Vapor
import VaporTesting

/// Many requests at once: no lost counts, no server errors. (How many reach the password check is bounded by
/// race-free admission: see DemoRaceFreeTests.)
@Suite struct DemoConcurrencyTests {
    @Test(arguments: DemoFramework.allCases) func concurrentFailuresAreAllCounted(_ framework: DemoFramework) async throws {
        try await withDemo(["DEFENDER_BEHIND_REVERSE_PROXY": "true", "DEFENDER_LOGIN_FAILURE_LIMIT": "1000"], on: framework) { (demo) async throws in
            let statuses = try await withThrowingTaskGroup(of: HTTPStatus.self) { group in
                for index in 0..<100 {
                    group.addTask { try await demo.login("victim", "wrong\(index)", forwardedFor: "198.51.100.\(index % 10)").status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.count == 100 && statuses.allSatisfy { $0 == .unauthorized })
            let engine = try demo.engine()
            #expect(try await engine.store.state(of: engine.usernameKey("victim")).failures == 100)
            for ip in 0..<10 {
                #expect(try await engine.store.state(of: engine.ipKey("198.51.100.\(ip)")).failures == 10)
            }
        }
    }

    @Test(arguments: DemoFramework.allCases) func concurrentAttackEndsLockedWithoutServerErrors(_ framework: DemoFramework) async throws {
        try await withDemo(["DEFENDER_BEHIND_REVERSE_PROXY": "true"], on: framework) { (demo) async throws in
            let statuses = try await withThrowingTaskGroup(of: HTTPStatus.self) { group in
                for index in 0..<100 {
                    group.addTask { try await demo.login("alice", "wrong", forwardedFor: "203.0.113.\(index)").status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == .unauthorized || $0 == .forbidden })
            #expect(statuses.filter { $0 == .unauthorized }.count >= 3)
            #expect(try await demo.login("alice", "secret1", forwardedFor: "192.0.2.1").status == .forbidden)
            let engine = try demo.engine()
            let counted = try await engine.store.state(of: engine.usernameKey("alice")).failures
            // Every request that reached the password check was counted: the 401s plus at least the crossing one.
            #expect(counted >= statuses.filter { $0 == .unauthorized }.count + 1 && counted <= statuses.count)
        }
    }
}
