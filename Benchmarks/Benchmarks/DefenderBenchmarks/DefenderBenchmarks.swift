import Benchmark
import DefenderCore
@_spi(Internals) import DefenderRedis
import Foundation
import NIOCore

// Redis benchmarks use DEFENDER_BENCH_REDIS_URL (Benchmarks/run starts a redis-server for them).
let redisURL = ProcessInfo.processInfo.environment["DEFENDER_BENCH_REDIS_URL"]

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput], maxDuration: .seconds(3))

    // MARK: RESP codec

    var reply = ByteBuffer()
    RESPEncoder.encode(.array([.integer(0), .integer(300_000), .integer(1), .integer(1), .integer(4), .integer(4), .integer(1), .integer(1)]), into: &reply)
    Benchmark("RESP decode: a script reply of 8 integers") { benchmark in
        for _ in benchmark.scaledIterations {
            var buffer = reply
            var decoder = RESPDecoder()
            blackHole(try decoder.decode(buffer: &buffer))
        }
    }

    var bulk = ByteBuffer()
    RESPEncoder.encode(.bulkString(ByteBuffer(string: String(repeating: "x", count: 64))), into: &bulk)
    Benchmark("RESP decode: a 64-byte bulk string") { benchmark in
        for _ in benchmark.scaledIterations {
            var buffer = bulk
            var decoder = RESPDecoder()
            blackHole(try decoder.decode(buffer: &buffer))
        }
    }

    Benchmark("RESP encode: EVALSHA with 9 keys and 12 arguments") { benchmark in
        let command = ["EVALSHA", String(repeating: "a", count: 40), "9"] + (0..<9).map { "defender:failed:ip:10.0.0.\($0)" } + (0..<12).map(String.init)
        var buffer = ByteBuffer()
        for _ in benchmark.scaledIterations {
            buffer.clear()
            RESPEncoder.encode(command, into: &buffer)
            blackHole(buffer)
        }
    }

    // MARK: Engine with the memory store

    // 1,000 logins per sample: the machine's noise (±several µs per call) averages out.
    Benchmark("Engine (memory): 1000 × (check + recordSuccess)", configuration: .init(metrics: [.wallClock, .mallocCountTotal], scalingFactor: .kilo, maxDuration: .seconds(3))) { benchmark in
        let engine = Defender(configuration: DefenderConfiguration())
        let client = ClientAddress(address: IPAddress("203.0.113.7")!)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            if case .allowed(let attempt) = try await engine.check(ip: client, username: "alice") {
                try await engine.recordSuccess(attempt)
            }
        }
    }

    Benchmark("Engine (memory): check + recordSuccess") { benchmark in
        let engine = Defender(configuration: DefenderConfiguration())
        let client = ClientAddress(address: IPAddress("203.0.113.7")!)
        // Only the logins are measured, not building the engine (its metrics are ~20 allocations).
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            if case .allowed(let attempt) = try await engine.check(ip: client, username: "alice") {
                try await engine.recordSuccess(attempt)
            }
        }
    }

    // The baseline of admission's cost: django-defender's order, a lock check that reserves nothing.
    Benchmark("Engine (memory): lock check + recordSuccess, no admission (baseline)") { benchmark in
        let engine = Defender(configuration: DefenderConfiguration())
        let client = ClientAddress(address: IPAddress("203.0.113.7")!)
        // Only the logins are measured, not building the engine (its metrics are ~20 allocations).
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            if try await engine.lockout(ip: client, username: "alice") == nil {
                try await engine.recordSuccess(LoginAttempt(ip: client, submittedUsername: "alice"))
            }
        }
    }

    Benchmark("Engine (memory): check of a blocked IP") { benchmark in
        let engine = Defender(configuration: DefenderConfiguration())
        try await engine.block(ip: "203.0.113.8")
        let client = ClientAddress(address: IPAddress("203.0.113.8")!)
        // Only the logins are measured, not building the engine (its metrics are ~20 allocations).
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try await engine.check(ip: client, username: "mallory"))
        }
    }

    // MARK: Client IP

    var proxied = DefenderConfiguration()
    proxied.behindReverseProxy = true
    let resolver = ClientIPResolver(configuration: proxied)
    let longHeader = (0..<30).map { "10.0.\($0 / 256).\($0 % 256)" }.joined(separator: ", ")
    let shortHeader = "2001:db8:1:2::7, 10.0.0.1"
    // MARK: Deny lists (the prefix trie)

    // 100,000 random IPv4 /32s and /24s, and 100,000 IPv6 /64s and /48s: a large Tor-exit or open-proxy list.
    var generator = SystemRandomNumberGenerator()
    var v4Entries: [IPNetwork] = []
    var v6Entries: [IPNetwork] = []
    for index in 0..<100_000 {
        v4Entries.append(IPNetwork(address: .v4(UInt32.random(in: 0...UInt32.max, using: &generator)), prefixLength: index % 10 == 0 ? 24 : 32))
        v6Entries.append(IPNetwork(address: .v6(UInt128(UInt64.random(in: 0...UInt64.max, using: &generator)) << 64), prefixLength: index % 10 == 0 ? 48 : 64))
    }
    let denyV4 = IPNetworkSet(v4Entries)
    let denyV6 = IPNetworkSet(v6Entries)
    let v4Probes = (0..<1024).map { index -> IPAddress in
        // Half hits (inside a stored range), half random (almost all misses).
        guard index % 2 == 0 else { return .v4(UInt32.random(in: 0...UInt32.max)) }
        return v4Entries[index * 97 % v4Entries.count].address
    }
    let v6Probes = (0..<1024).map { index -> IPAddress in
        guard index % 2 == 0 else { return .v6(UInt128(UInt64.random(in: 0...UInt64.max)) << 64 | 1) }
        if case .v6(let base) = v6Entries[index * 97 % v6Entries.count].address { return .v6(base | 0xABCD) }
        return .v6(0)
    }
    Benchmark("Deny list: IPv4 lookup among 100,000 ranges (1024 lookups, half hits)") { benchmark in
        for _ in benchmark.scaledIterations {
            for probe in v4Probes { blackHole(denyV4.contains(probe)) }
        }
    }
    Benchmark("Deny list: IPv6 lookup among 100,000 ranges (1024 lookups, half hits)") { benchmark in
        for _ in benchmark.scaledIterations {
            for probe in v6Probes { blackHole(denyV6.contains(probe)) }
        }
    }
    Benchmark("Deny list: engine decision with a 100,000-entry file (1024 decisions)") { benchmark in
        let lists = AccessLists(configuration: DefenderConfiguration())
        lists.replaceFileDenylist(denyV4)
        let username = DefenderKey.username("alice")
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for probe in v4Probes { blackHole(lists.decision(ip: probe, username: username)) }
        }
    }
    Benchmark("Deny list: building the trie from 100,000 IPv4 ranges", configuration: .init(metrics: [.wallClock, .mallocCountTotal], maxDuration: .seconds(3))) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(IPNetworkSet(v4Entries)) }
    }

    Benchmark("Client IP: X-Forwarded-For with 30 trusted hops") { benchmark in
        let peer = IPAddress("127.0.0.1")
        for _ in benchmark.scaledIterations {
            blackHole(try? resolver.resolve(peer: peer) { _ in [longHeader] })
        }
    }
    Benchmark("Client IP: IPv6 client behind one proxy") { benchmark in
        let peer = IPAddress("127.0.0.1")
        for _ in benchmark.scaledIterations {
            blackHole(try resolver.resolve(peer: peer) { _ in [shortHeader] })
        }
    }

    // MARK: Cluster routing (no server: the per-command cost of finding the node)

    let routingStore = RedisAttemptStore(client: RedisClient(configuration: try! RedisConfiguration(url: "redis-cluster://127.0.0.1:7000")), prefix: "defender")
    let admitKeys = Array(routingStore.keyNames(
        ip: DefenderKey(kind: .ip, normalizedValue: "198.51.100.7"), username: DefenderKey(kind: .username, normalizedValue: "carol")).prefix(7))
    Benchmark("Cluster routing: the one slot of an admission's 7 keys") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(ClusterSlot.common(admitKeys))
        }
    }

    // MARK: Redis (needs DEFENDER_BENCH_REDIS_URL)

    guard let redisURL, let configuration = try? RedisConfiguration(url: redisURL) else { return }

    Benchmark("Redis: 1000 pipelined INCRs on one connection", configuration: .init(metrics: [.wallClock, .cpuTotal, .throughput], maxDuration: .seconds(5))) { benchmark in
        let connection = try await RedisConnection.connect(to: configuration)
        let commands = Array(repeating: ["INCR", "defender-bench:incr"], count: 1000)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try await connection.pipeline(commands))
        }
        benchmark.stopMeasurement()
        await connection.close()
    }

    Benchmark("Redis: admit + recordSuccess (two scripts)", configuration: .init(metrics: [.wallClock, .cpuTotal, .throughput], maxDuration: .seconds(5))) { benchmark in
        let client = RedisClient(configuration: configuration)
        let engine = Defender(configuration: DefenderConfiguration(), store: RedisAttemptStore(client: client, prefix: "defender-bench"))
        let address = ClientAddress(address: IPAddress("198.51.100.2")!)
        _ = try await engine.lockout(ip: address, username: "warm")
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            if case .allowed(let attempt) = try await engine.check(ip: address, username: "carol") {
                try await engine.recordSuccess(attempt)
            }
        }
        benchmark.stopMeasurement()
        await client.shutdown()
    }

    // Logins as a loaded server sends them: 32 at once, each admitted and then recorded as a success, on distinct
    // addresses and usernames. One at a time (above) every round trip wakes a sleeping thread; here the threads stay
    // busy, as in the load test, so the client's CPU per script is what a server pays (`Benchmarks/run-redis-cpu`).
    Benchmark("Redis: admit + recordSuccess, 32 logins at once", configuration: .init(metrics: [.wallClock, .cpuTotal, .throughput], maxDuration: .seconds(8))) { benchmark in
        let client = RedisClient(configuration: configuration)
        let engine = Defender(configuration: DefenderConfiguration(), store: RedisAttemptStore(client: client, prefix: "defender-bench"))
        _ = try await engine.lockout(ip: ClientAddress(address: IPAddress("198.51.100.4")!), username: "warm")
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<32 {
                    group.addTask {
                        let address = ClientAddress(address: IPAddress("10.1.0.\(worker + 1)")!)
                        for _ in 0..<50 {
                            if case .allowed(let attempt) = try await engine.check(ip: address, username: "user\(worker)") {
                                try await engine.recordSuccess(attempt)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        benchmark.stopMeasurement()
        await client.shutdown()
    }

    Benchmark("Redis: lock check + recordSuccess, no admission (baseline)", configuration: .init(metrics: [.wallClock, .cpuTotal, .throughput], maxDuration: .seconds(5))) { benchmark in
        let client = RedisClient(configuration: configuration)
        let engine = Defender(configuration: DefenderConfiguration(), store: RedisAttemptStore(client: client, prefix: "defender-bench"))
        let address = ClientAddress(address: IPAddress("198.51.100.3")!)
        _ = try await engine.lockout(ip: address, username: "warm")
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            if try await engine.lockout(ip: address, username: "dave") == nil {
                try await engine.recordSuccess(LoginAttempt(ip: address, submittedUsername: "dave"))
            }
        }
        benchmark.stopMeasurement()
        await client.shutdown()
    }

    Benchmark("Redis: check + recordFailure (two scripts)", configuration: .init(metrics: [.wallClock, .cpuTotal, .throughput], maxDuration: .seconds(5))) { benchmark in
        var config = DefenderConfiguration()
        config.loginFailureLimit = 1_000_000_000
        let client = RedisClient(configuration: configuration)
        let engine = Defender(configuration: config, store: RedisAttemptStore(client: client, prefix: "defender-bench"))
        let address = ClientAddress(address: IPAddress("198.51.100.1")!)
        _ = try await engine.check(ip: address, username: "warm")
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            if case .allowed(let attempt) = try await engine.check(ip: address, username: "bob") {
                blackHole(try await engine.recordFailure(attempt))
            }
        }
        benchmark.stopMeasurement()
        await client.shutdown()
    }

    // A refused request for a key this instance has seen blocked: answered from the block cache, no round trip.
    // Compare with "Engine (memory): check of a blocked IP" (target: ≥ 95 % of its rate) and with the same
    // request when every refusal asks Redis.
    for remember in [true, false] {
        let name = remember ? "Redis: check of a blocked IP, known to this instance" : "Redis: check of a blocked IP, block cache off (a round trip each)"
        Benchmark(name, configuration: .init(metrics: [.wallClock, .cpuTotal, .throughput, .mallocCountTotal], maxDuration: .seconds(5))) { benchmark in
            let client = RedisClient(configuration: configuration)
            let engine = Defender(
                configuration: DefenderConfiguration(),
                store: RedisAttemptStore(client: client, prefix: "defender-bench-\(remember)", rememberBlocks: remember))
            _ = try await engine.block(ip: "203.0.113.9", for: .seconds(3600))
            let address = ClientAddress(address: IPAddress("203.0.113.9")!)
            _ = try await engine.check(ip: address, username: "mallory")  // the first refusal asks Redis, and is remembered
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(try await engine.check(ip: address, username: "mallory"))
            }
            benchmark.stopMeasurement()
            _ = try await engine.unblock(ip: "203.0.113.9")
            await client.shutdown()
        }
    }
}
