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
} catch {
    // A bad setting or a failed command: say what to fix, without a crash report or framework noise.
    let message = (error as? DefenderError)?.description ?? (error as? any LocalizedError)?.errorDescription ?? String(describing: error)
    FileHandle.standardError.write(Data("defender-demo: \(message)\n".utf8))
    try? await app.asyncShutdown()
    exit(1)
}
