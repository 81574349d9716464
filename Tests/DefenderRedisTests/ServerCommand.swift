@_spi(Internals) import DefenderRedis

/// One command to one server on loopback, on a connection of its own (outside the client under test), named
/// `clientName` so that `CLIENT LIST` can tell it from Defender's.
func serverCommand(_ port: Int, _ arguments: [String], clientName: String = "test-probe") async throws -> RESPValue {
    var configuration = RedisConfiguration(host: "127.0.0.1", port: port)
    configuration.clientName = clientName
    let connection = try await RedisConnection.connect(to: configuration)
    defer { Task { await connection.close() } }
    return try await connection.send(arguments)
}
