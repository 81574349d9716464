import DefenderVapor
import Testing
import Vapor
import VaporTesting

/// The engine and its store are built once, at boot: a setting changed after boot would build a second store beside
/// the first, so it stops the process with a message instead of taking effect half way.
@Suite struct BuiltOnceTests {
    @Test func theEngineIsBuiltAtBootAndKept() async throws {
        try await withApp { (app) async throws in
            app.defender.configuration = DefenderConfiguration()
            try await app.asyncBoot()
            let first = try app.defender.engine()
            #expect(try app.defender.engine() === first)
        }
    }

    @Test func changingSettingsAfterBootStopsTheProcess() async {
        await #expect(processExitsWith: .failure) {
            let app = try await Application.make(.testing)
            try await app.asyncBoot()
            app.defender.configuration = DefenderConfiguration()
        }
    }
}
