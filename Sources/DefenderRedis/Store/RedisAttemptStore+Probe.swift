import DefenderCore

extension RedisAttemptStore: WriteProbe {
    /// Sets a short-lived key with the flags of a script that adds data (``ProbeWritesCall``): refused whole by a
    /// full Redis or a replica, as an admission is.
    package func probeWrites() async throws {
        _ = try await run(ProbeWritesCall(probe: keys.probe))
    }
}
