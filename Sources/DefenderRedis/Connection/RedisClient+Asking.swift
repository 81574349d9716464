/// A Cluster's `ASK` redirection: the slot is being migrated to this node and the keys are already here, so the
/// command goes after `ASKING`, on one connection (`ClusterRouter` follows `ASK` with these).
extension RedisClient {
    /// `ASKING` then the script, falling back to `EVAL` on `NOSCRIPT` as `run(_:keys:arguments:)` does.
    func runAsking(_ script: RedisScript, keys: [String], arguments: [String]) async throws -> RESPValue {
        let connection = try await connection()
        let replies = try await connection.pipeline([["ASKING"], script.command(keys: keys, arguments: arguments)])
        if case .failure(let error as RedisError) = replies[1], error.reply == .noScript {
            return try await connection.pipeline([["ASKING"], script.command(keys: keys, arguments: arguments, withSource: true)])[1].get()
        }
        return try replies[1].get()
    }

    /// `ASKING` then one command, on one connection.
    func sendAsking(_ arguments: [String]) async throws -> RESPValue {
        try await connection().pipeline([["ASKING"], arguments])[1].get()
    }
}
