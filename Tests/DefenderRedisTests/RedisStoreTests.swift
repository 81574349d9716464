import DefenderCore
@_spi(Internals) import DefenderRedis
import DefenderTesting
import Foundation
import ServiceLifecycle
import Testing

/// The store contract, against a real redis-server.
@Suite(.serialized) struct RedisStoreTests {
    static func contract(url: String) throws -> AttemptStoreContract {
        let client = RedisClient(configuration: try RedisConfiguration(url: url))
        return AttemptStoreContract(
            makeStore: { RedisAttemptStore(client: client, prefix: "test-\(UUID().uuidString)") },
            advance: { try await Task.sleep(for: $0) })
    }

    @Test func contractSuite() async throws {
        guard let url = await SharedRedis.url else { return }
        try await Self.contract(url: url).runAll()
    }

    /// Spraying, the cool-off cap and jitter, in the Lua scripts.
    @Test func beyondContract() async throws {
        guard let url = await SharedRedis.url else { return }
        try await Self.contract(url: url).runBeyond()
    }

    /// The long window in the Lua scripts: slow guessing, many addresses, a forgetful user, a storm.
    @Test func longWindowContract() async throws {
        guard let url = await SharedRedis.url else { return }
        try await Self.contract(url: url).runLongWindow()
    }

    /// An IP's long window never holds a username's text (it may be a password typed into the wrong field, and the
    /// window keeps it a day): under `own` a 16-digit tag of its SHA-1, otherwise nothing of it.
    @Test(arguments: [SuccessReset.own, .username])
    func theIPsLongWindowKeepsNoUsername(reset: SuccessReset) async throws {
        guard let url = await SharedRedis.url else { return }
        let client = RedisClient(configuration: try RedisConfiguration(url: url))
        defer { Task { await client.shutdown() } }
        let store = RedisAttemptStore(client: client, prefix: "tag-\(UUID().uuidString)")
        var config = DefenderConfiguration()
        config.successReset = reset
        let engine = Defender(configuration: config, store: store)
        let secret = "Hunter2-typed-as-a-username"
        #expect(try await engine.login(ip: "10.33.0.1", username: secret, correctPassword: false) == .failure)
        let ip = try engine.ipKey("10.33.0.1")
        let longIP = try #require(store.keyNames(ip: ip, username: try engine.usernameKey(secret)).first { $0.contains(":long:") && $0.contains("10.33.0.1") })
        let members = try #require(try await client.send(["ZRANGE", longIP, "0", "-1"]).elements?.compactMap(\.string))
        #expect(members.count == 1)
        #expect(!members.contains { $0.lowercased().contains(secret.lowercased()) })
        #expect(members.allSatisfy { $0.split(separator: ":").count == (reset == .own ? 3 : 2) }, "\(members)")
    }

    /// Shared ranges in the Lua scripts: pairs, the address's own block and spraying, resets, a storm.
    @Test func sharedRangesContract() async throws {
        guard let url = await SharedRedis.url else { return }
        try await Self.contract(url: url).runSharedRanges()
    }

    /// Device cookies on Redis: a trusted client's username dimension is its device, in the same scripts.
    @Test func deviceCookiesContract() async throws {
        guard let url = await SharedRedis.url else { return }
        try await Self.contract(url: url).runDeviceCookies()
    }

    /// Unlock links on Redis: the daily count and the pending link in one script, consumed once however many race.
    @Test func unlockLinksContract() async throws {
        guard let url = await SharedRedis.url else { return }
        try await Self.contract(url: url).runUnlockLinks()
    }

    @Test func admissionContract() async throws {
        guard let url = await SharedRedis.url else { return }
        try await Self.contract(url: url).runAdmission()
    }

    /// A task cancelled between admission and its outcome still gives its slot back in Redis: the release
    /// is written before the cancelled wait for its reply gives up.
    @Test func cancelledTaskReleasesItsRedisSlot() async throws {
        guard let url = await SharedRedis.url else { return }
        let client = RedisClient(configuration: try RedisConfiguration(url: url))
        defer { Task { await client.shutdown() } }
        let store = RedisAttemptStore(client: client, prefix: "cancel-\(UUID().uuidString)")
        let engine = Defender(configuration: DefenderConfiguration(), store: store)
        let key = try engine.usernameKey("cancelme")
        let task = Task {
            guard case .allowed(let attempt) = try await engine.check(ip: engine.resolver.client(IPAddress("10.20.0.1")!), username: "cancelme") else { return }
            do {
                try await Task.sleep(for: .seconds(30))  // the password check, cancelled
            } catch {
                try? await engine.release(attempt)
            }
        }
        var held = false
        for _ in 0..<100 where !held {
            held = try await store.inFlight(key) == 1
            if !held { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(held)
        // Not even the release script cached: a cancelled EVALSHA could not fall back to EVAL in the task itself.
        _ = try await client.send(["SCRIPT", "FLUSH"])
        task.cancel()
        _ = await task.result
        var released = false
        for _ in 0..<100 where !released {
            released = try await store.inFlight(key) == 0
            if !released { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(released)
    }

    @Test func keysCarryTTLsAndThePrefix() async throws {
        guard let url = await SharedRedis.url else { return }
        let client = RedisClient(configuration: try RedisConfiguration(url: url))
        let prefix = "ttl-\(UUID().uuidString)"
        var config = DefenderConfiguration()
        config.lockoutCooloffTimes = [.seconds(60), .zero]
        let engine = Defender(configuration: config, store: RedisAttemptStore(client: client, prefix: prefix))
        for _ in 0..<4 { _ = try await engine.login(ip: "10.1.1.1", username: "ttl", correctPassword: false) }
        var keys: [String] = []
        var cursor = "0"
        repeat {
            let page = try await client.send(["SCAN", cursor, "MATCH", "\(prefix):*", "COUNT", "1000"]).elements ?? []
            cursor = page.first?.string ?? "0"
            keys += page.last?.elements?.compactMap(\.string) ?? []
        } while cursor != "0"
        #expect(Set(keys) == [
            "\(prefix):failed:ip:10.1.1.1", "\(prefix):failed:username:ttl", "\(prefix):blocked:ip:10.1.1.1",
            "\(prefix):blocked:username:ttl", "\(prefix):history:ip:10.1.1.1", "\(prefix):history:username:ttl",
            "\(prefix):failed:pair:10.1.1.1|ttl", "\(prefix):index:ip", "\(prefix):index:username",
            "\(prefix):expiry:ip", "\(prefix):expiry:username", "\(prefix):long:ip:10.1.1.1", "\(prefix):long:username:ttl",
        ])
        for key in keys {
            let ttl = try await client.send(["PTTL", key]).int ?? -2
            #expect(ttl > 0, "\(key) has no TTL")
        }
        // A permanent block, and the index while it lists one, are the only keys without a TTL.
        try await engine.block(ip: "10.1.1.2")
        #expect(try await client.send(["PTTL", "\(prefix):blocked:ip:10.1.1.2"]).int == -1)
        #expect(try await client.send(["PTTL", "\(prefix):index:ip"]).int == -1)
        #expect(try await client.send(["PTTL", "\(prefix):index:username"]).int ?? 0 > 0)
        try await engine.unblock(ip: "10.1.1.2")
        #expect(try await client.send(["PTTL", "\(prefix):index:ip"]).int ?? 0 > 0)
    }

    @Test func survivesScriptFlush() async throws {
        guard let url = await SharedRedis.url else { return }
        let client = RedisClient(configuration: try RedisConfiguration(url: url))
        let engine = Defender(configuration: DefenderConfiguration(), store: RedisAttemptStore(client: client, prefix: "flush-\(UUID().uuidString)"))
        #expect(try await engine.login(ip: "10.2.2.2", username: "f", correctPassword: false) == .failure)
        _ = try await client.send(["SCRIPT", "FLUSH"])
        #expect(try await engine.login(ip: "10.2.2.2", username: "f", correctPassword: false) == .failure)
        #expect(try await engine.store.state(of: engine.usernameKey("f")).failures == 2)
    }

    @Test func sharedByTwoInstances() async throws {
        guard let url = await SharedRedis.url else { return }
        let prefix = "shared-\(UUID().uuidString)"
        let first = Defender(configuration: DefenderConfiguration(), store: RedisAttemptStore(client: RedisClient(configuration: try RedisConfiguration(url: url)), prefix: prefix))
        let second = Defender(configuration: DefenderConfiguration(), store: RedisAttemptStore(client: RedisClient(configuration: try RedisConfiguration(url: url)), prefix: prefix))
        #expect(try await first.login(ip: "10.3.3.3", username: "s", correctPassword: false) == .failure)
        #expect(try await second.login(ip: "10.3.3.3", username: "s", correctPassword: false) == .failure)
        #expect(try await first.login(ip: "10.3.3.3", username: "s", correctPassword: false) == .failure)
        #expect(try await second.login(ip: "10.3.3.3", username: "s", correctPassword: false) == .lockedOut)
        #expect(try await first.login(ip: "10.3.3.4", username: "s", correctPassword: true) == .refused)
    }
}

/// Authentication, databases and TLS against redis-servers started for each case.
@Suite(.serialized) struct RedisConnectionTests {
    func roundTrip(_ url: String) async throws {
        let client = RedisClient(configuration: try RedisConfiguration(url: url))
        defer { Task { await client.shutdown() } }
        let key = "rt-\(UUID().uuidString)"
        #expect(try await client.send(["SET", key, "v"]).string == "OK")
        #expect(try await client.send(["GET", key]).string == "v")
    }

    // Ported: test_get_redis_connection (#74).
    @Test func plainAndDatabase3() async throws {
        guard RedisServer.isAvailable else { return }
        let server = try await RedisServer()
        defer { server.stop() }
        try await roundTrip("redis://127.0.0.1:\(server.port)/0")
        try await roundTrip("redis://127.0.0.1:\(server.port)/3")
        let db3 = RedisClient(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(server.port)/3"))
        _ = try await db3.send(["SET", "only-in-3", "x"])
        let db0 = RedisClient(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(server.port)/0"))
        #expect(try await db0.send(["GET", "only-in-3"]) == .bulkString(nil))
        #expect(try await db3.send(["GET", "only-in-3"]).string == "x")
    }

    // Ported: test_get_redis_connection_with_password (#75), with a password that needs percent-encoding.
    @Test func requirepass() async throws {
        guard RedisServer.isAvailable else { return }
        let server = try await RedisServer(["--requirepass", "p@ss:w/rd!"])
        defer { server.stop() }
        try await roundTrip("redis://:p%40ss%3Aw%2Frd%21@127.0.0.1:\(server.port)/0")
        let wrong = RedisClient(configuration: try RedisConfiguration(url: "redis://:nope-secret@127.0.0.1:\(server.port)/0"))
        let error = await #expect(throws: RedisError.self) { try await wrong.send(["PING"]) }
        #expect(error?.code == .handshakeFailed)
        #expect(error?.description.contains("nope-secret") == false)
        let none = RedisClient(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(server.port)/0"))
        // Without credentials the handshake's CLIENT SETNAME is refused: the connection is not used.
        let noAuth = await #expect(throws: RedisError.self) { try await none.send(["GET", "x"]) }
        #expect(noAuth?.code == .handshakeFailed && noAuth?.message.contains("NOAUTH") == true)
    }

    // Ported: test_get_redis_connection_with_acl (#76).
    @Test func aclUser() async throws {
        guard RedisServer.isAvailable else { return }
        let server = try await RedisServer()
        defer { server.stop() }
        let admin = RedisClient(configuration: try RedisConfiguration(url: server.url))
        _ = try await admin.send(["ACL", "SETUSER", "myname", "on", ">mypass2", "~*", "+@all"])
        try await roundTrip("redis://myname:mypass2@127.0.0.1:\(server.port)/0")
        let wrong = RedisClient(configuration: try RedisConfiguration(url: "redis://myname:bad@127.0.0.1:\(server.port)/0"))
        let error = await #expect(throws: RedisError.self) { try await wrong.send(["PING"]) }
        #expect(error?.code == .handshakeFailed)
    }

    @Test func tls() async throws {
        guard RedisServer.isAvailable else { return }
        let certificates = try TestCertificates()
        let server = try await RedisServer(
            ["--tls-cert-file", certificates.certificate, "--tls-key-file", certificates.key, "--tls-ca-cert-file", certificates.certificate,
             "--tls-auth-clients", "no"], tlsPort: true)
        defer { server.stop() }
        try await roundTrip("rediss://127.0.0.1:\(server.port)/0?ssl_ca_certs=\(certificates.certificate)&ssl_server_name=localhost")
        // The system roots do not know our throw-away CA: verification must fail.
        let untrusted = RedisClient(configuration: try RedisConfiguration(url: "rediss://127.0.0.1:\(server.port)/0"))
        await #expect(throws: RedisError.self) { try await untrusted.send(["PING"]) }
    }

    @Test func unreachableFailsFastDuringBackoff() async throws {
        var config = RedisConfiguration(host: "127.0.0.1", port: 1)
        config.initialBackoff = .seconds(30)
        let client = RedisClient(configuration: config)
        await #expect(throws: RedisError.self) { try await client.send(["PING"]) }
        #expect(client.isBackingOff)
        let start = ContinuousClock.now
        let error = await #expect(throws: RedisError.self) { try await client.send(["PING"]) }
        #expect(error?.code == .connectionFailed)
        #expect(ContinuousClock.now - start < .milliseconds(100))
    }
}

/// A throw-away self-signed certificate for `localhost`, made with the openssl command.
struct TestCertificates {
    let certificate: String
    let key: String

    init() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("defender-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        certificate = directory.appendingPathComponent("cert.pem").path
        key = directory.appendingPathComponent("key.pem").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "1",
                             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw RedisError(.connectionFailed, "openssl could not make a certificate") }
    }
}

/// Round trips per login, counted by the server itself (`INFO commandstats` on a private redis-server).
@Suite(.serialized) struct RedisRoundTripTests {
    func commandCounts(_ client: RedisClient) async throws -> [String: Int] {
        let info = try await client.send(["INFO", "commandstats"]).string ?? ""
        var counts: [String: Int] = [:]
        for line in info.split(whereSeparator: \.isNewline) where line.hasPrefix("cmdstat_") {
            let name = line.dropFirst("cmdstat_".count).prefix { $0 != ":" }
            // "cmdstat_get:calls=2,usec=…,rejected_calls=0,failed_calls=0": the first "calls=" is ours.
            let parts = line.split(separator: "calls=")
            if parts.count > 1, let value = Int(parts[1].prefix(while: \.isNumber)) {
                counts[String(name)] = value
            }
        }
        return counts
    }

    @Test func oneBeforeAndOneAfterThePasswordCheck() async throws {
        guard RedisServer.isAvailable else { return }
        let server = try await RedisServer()
        defer { server.stop() }
        let client = RedisClient(configuration: try RedisConfiguration(url: server.url))
        let observer = RedisClient(configuration: try RedisConfiguration(url: server.url))
        let store = RedisAttemptStore(client: client)
        let engine = Defender(configuration: DefenderConfiguration(), store: store)
        // As deployed: the block cache's listener runs, so known blocks are believed until they end (without it, one
        // second, which a loaded test machine can outlast between two logins).
        let listener = Task { try await store.invalidations.run() }
        defer { listener.cancel() }
        for _ in 0..<200 where try await observer.send(["PUBSUB", "NUMSUB", "defender:blocks"]).elements?.last?.int != 1 {
            try await Task.sleep(for: .milliseconds(10))
        }
        // Connect and load the scripts: a script's first use (or first after SCRIPT FLUSH) adds one EVAL.
        _ = try await engine.login(ip: "10.4.4.3", username: "warm", correctPassword: true)
        _ = try await engine.login(ip: "10.4.4.3", username: "warm", correctPassword: false)
        func commands(during login: () async throws -> LoginResult) async throws -> (Int, LoginResult) {
            _ = try await observer.send(["CONFIG", "RESETSTAT"])
            let result = try await login()
            let counts = try await commandCounts(observer)
            // Commands run inside a script are counted under their own names; the client sends only scripts.
            return ((counts["evalsha"] ?? 0) + (counts["eval"] ?? 0), result)
        }
        let (failure, failed) = try await commands { try await engine.login(ip: "10.4.4.4", username: "u", correctPassword: false) }
        #expect(failed == .failure && failure == 2)  // EVALSHA check + EVALSHA record
        let (success, succeeded) = try await commands { try await engine.login(ip: "10.4.4.5", username: "v", correctPassword: true) }
        #expect(succeeded == .success && success == 2)
        for _ in 0..<4 { _ = try await engine.login(ip: "10.4.4.6", username: "w", correctPassword: false) }
        let (blocked, refused) = try await commands { try await engine.login(ip: "10.4.4.6", username: "w", correctPassword: false) }
        #expect(refused == .refused && blocked == 0)  // a block this instance saw costs no round trip
        let (elsewhere, refusedToo) = try await commands { try await engine.login(ip: "10.4.4.7", username: "w", correctPassword: false) }
        #expect(refusedToo == .refused && elsewhere == 0)  // the username's block, from another address
    }
}

@Suite struct RedisCancellationTests {
    @Test func cancellingOneCommandSparesTheOthers() async throws {
        guard let url = await SharedRedis.url else { return }
        var configuration = try RedisConfiguration(url: url)
        configuration.commandTimeout = .seconds(30)  // the BLPOP below must outlive a slow, loaded machine
        let connection = try await RedisConnection.connect(to: configuration)
        let list = "defender-test-list-\(UUID().uuidString)"
        let slow = Task { try await connection.send(["BLPOP", list, "25"]) }
        try await Task.sleep(for: .milliseconds(100))
        let next = Task { try await connection.send(["PING"]) }
        try await Task.sleep(for: .milliseconds(100))
        let start = ContinuousClock.now
        slow.cancel()
        await #expect(throws: CancellationError.self) { try await slow.value }
        // Far below the BLPOP's 25 s: the cancelled task did not wait for its reply (a loose bound, as the
        // machine may be busy).
        #expect(ContinuousClock.now - start < .seconds(15))
        // Release the BLPOP from another connection: its reply is dropped, and PING gets its own.
        let other = try await RedisConnection.connect(to: configuration)
        _ = try await other.send(["LPUSH", list, "x"])
        #expect(try await next.value.string == "PONG")
        #expect(try await connection.send(["ECHO", "still in order"]).string == "still in order")
        await connection.close()
        await other.close()
    }

    /// A connection that breaks while a command is out says so with its own code, `connectionLost` (the server may
    /// have run it), which nothing retries; `connectionFailed` is kept for commands the server never saw, the only
    /// ones a Cluster's router sends again after a failover (a script run twice counted a failure twice).
    @Test func aConnectionLostWithACommandOutIsNotAConnectFailure() async throws {
        guard let url = await SharedRedis.url else { return }
        var configuration = try RedisConfiguration(url: url)
        configuration.commandTimeout = .seconds(30)
        let connection = try await RedisConnection.connect(to: configuration)
        let id = try #require(try await connection.send(["CLIENT", "ID"]).int)
        let out = Task { try await connection.send(["BLPOP", "defender-test-lost-\(UUID().uuidString)", "25"]) }
        try await Task.sleep(for: .milliseconds(200))
        let killer = try await RedisConnection.connect(to: configuration)
        _ = try await killer.send(["CLIENT", "KILL", "ID", String(id)])
        let error = await #expect(throws: RedisError.self) { try await out.value }
        #expect(error?.code == .connectionLost && error?.isUnavailable == true, "\(String(describing: error))")
        await killer.close()
        await connection.close()
    }

    @Test func commandsOnAClosedConnectionFail() async throws {
        guard let url = await SharedRedis.url else { return }
        let connection = try await RedisConnection.connect(to: try RedisConfiguration(url: url))
        await connection.close()
        let error = await #expect(throws: RedisError.self) { try await connection.send(["PING"]) }
        #expect(error?.code == .connectionFailed)
        let results = try await connection.pipeline([["PING"], ["PING"]])
        #expect(results.allSatisfy { if case .failure = $0 { true } else { false } })
    }

    @Test func commandTimeoutFailsFastAndTheClientRecovers() async throws {
        guard let url = await SharedRedis.url else { return }
        var configuration = try RedisConfiguration(url: url)
        configuration.commandTimeout = .milliseconds(100)
        let client = RedisClient(configuration: configuration)
        let error = await #expect(throws: RedisError.self) { try await client.send(["BLPOP", "defender-test-never-\(UUID().uuidString)", "1"]) }
        #expect(error?.code == .timeout)
        #expect(try await client.send(["PING"]).string == "PONG")  // the broken connection was replaced
        await client.shutdown()
        await #expect(throws: RedisError.self) { try await client.send(["PING"]) }
    }
}
