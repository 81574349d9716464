import DefenderDemoApp
import DefenderVapor
import Foundation
import Vapor

var env = try Environment.detect()
try LoggingSystem.bootstrap(from: &env)
let app = try await Application.make(env)
do {
    try await DemoApp.configure(app)
    try await app.execute()
    try await app.asyncShutdown()
} catch let error as DefenderError {
    // A bad setting: say what to fix, without a stack of framework noise.
    FileHandle.standardError.write(Data("defender-demo: \(error)\n".utf8))
    try? await app.asyncShutdown()
    exit(1)
} catch {
    app.logger.report(error: error)
    try? await app.asyncShutdown()
    throw error
}
