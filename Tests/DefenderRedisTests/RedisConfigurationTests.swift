@_spi(Internals) import DefenderRedis
import DefenderCore
import Testing

@Suite struct RedisConfigurationTests {
    @Test func parsesURLs() throws {
        let plain = try RedisConfiguration(url: "redis://localhost:6379/0")
        #expect(plain.endpoint == .tcp(host: "localhost", port: 6379) && plain.database == 0 && plain.tls == nil && plain.password == nil)
        let full = try RedisConfiguration(url: "rediss://app:p%40ss%21@cache.internal:6380/3?ssl_cert_reqs=none&command_timeout=0.5")
        #expect(full.username == "app" && full.password == "p@ss!" && full.database == 3)
        #expect(full.endpoint == .tcp(host: "cache.internal", port: 6380) && full.tls?.verifyCertificate == false)
        #expect(full.commandTimeout == .milliseconds(500))
        let passwordOnly = try RedisConfiguration(url: "redis://:mypass@localhost:6379/0")
        #expect(passwordOnly.username == nil && passwordOnly.password == "mypass")
        let v6 = try RedisConfiguration(url: "redis://[::1]:7000?db=2")
        #expect(v6.endpoint == .tcp(host: "::1", port: 7000) && v6.database == 2)
        #expect(try RedisConfiguration(url: "redis://h").endpoint == .tcp(host: "h", port: 6379))
        #expect(try RedisConfiguration(url: "unix:///run/redis.sock?db=1").endpoint == .unixSocket(path: "/run/redis.sock"))
        #expect(try RedisConfiguration(url: "redis://:a%3Ab%2Fc%3Fd%23@h/0").password == "a:b/c?d#")
    }

    @Test(arguments: ["localhost:6379", "http://h", "redis://h:0", "redis://h:99999", "redis://h/x", "redis://h?db=-1",
                      "rediss://h?ssl_cert_reqs=maybe", "unix://relative", "redis://u:%zz@h", "redis://h?max_connections=0"])
    func rejectsBadURLs(_ url: String) {
        let error = #expect(throws: DefenderError.self) { try RedisConfiguration(url: url) }
        #expect(error?.code == .invalidConfiguration && error?.setting == "DEFENDER_REDIS_URL")
        #expect((error?.underlying as? RedisError)?.code == .invalidURL)
    }

    @Test func neverShowsThePassword() throws {
        let config = try RedisConfiguration(url: "redis://app:hunter2@h:1/2")
        #expect(!config.description.contains("hunter2") && config.description.contains("app:***@"))
        #expect(RedisConfiguration.redact("redis://:hunter2@h/0") == "redis://:***@h/0")
        #expect(RedisConfiguration.redact("redis://app:hunter2@h/0") == "redis://app:***@h/0")
        let error = #expect(throws: DefenderError.self) { try RedisConfiguration(url: "redis://app:hunter2@h:bad/0") }
        #expect(error?.description.contains("hunter2") == false && error?.message.contains("hunter2") == false)
        #expect((error?.underlying as? RedisError)?.description.contains("hunter2") == false)
    }
}
