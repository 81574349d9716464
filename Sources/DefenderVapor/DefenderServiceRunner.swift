import DefenderHTTP
import Vapor

/// Defender's services run from Vapor's lifecycle hooks (see `DefenderServiceRunner`): started at boot, shut down
/// gracefully at shutdown.
extension DefenderServiceRunner: LifecycleHandler {
    public func didBoot(_ application: Application) throws { start(logger: application.logger) }
    public func didBootAsync(_ application: Application) async throws { start(logger: application.logger) }
    public func shutdown(_ application: Application) { stopWithoutWaiting() }
    public func shutdownAsync(_ application: Application) async { await stop() }
}
