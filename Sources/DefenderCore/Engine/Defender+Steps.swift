import Tracing

/// How the engine runs its steps: in a span when a tracer is set, and shielded from the caller's cancellation
/// where a step must complete.
extension Defender {
    /// Runs `operation` in a span named `name` when a tracer is set (`annotate` adds the result's attributes;
    /// a thrown error is recorded), or just runs it.
    func traced<T>(
        _ name: String, _ operation: () async throws -> T, annotate: (T, any Span) -> Void = { _, _ in }
    ) async throws -> T {
        guard let tracer else { return try await operation() }
        let span = tracer.startSpan(name, ofKind: .internal)
        defer { span.end() }
        do {
            let result = try await operation()
            annotate(result, span)
            return result
        } catch {
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error))
            throw error
        }
    }

    /// Runs a store step that must happen even if the caller is cancelled — on entry or while the step is in
    /// flight (a cancelled Redis command is written, but its reply, and the EVAL retry after NOSCRIPT, would be
    /// dropped) — in an unstructured task, which the caller's cancellation never reaches. Every record and
    /// release goes through here, and the Redis store's admission (`RedisAttemptStore.admit`).
    package static func uncancelled<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        try await Task { try await operation() }.value
    }

    /// Runs a step of this engine's store that must not be cut short by the caller's cancellation
    /// (``uncancelled(_:)``). Running the memory store's steps in place (they take a lock and never suspend) was
    /// tried and measured: the interleaved JSON-login comparison could not tell it from this machine's noise, so
    /// every store keeps the task.
    func shielded<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        try await Self.uncancelled(operation)
    }
}
