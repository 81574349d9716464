@_spi(Internals) import DefenderRedis
import Foundation
import DefenderCore
import DefenderTesting
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

    @Test func parsesSentinelURLs() throws {
        let url = "redis-sentinel://app:p%40ss@10.0.0.1,10.0.0.2:26380,[::1]/2?master=main&sentinel_password=s%20p&sentinel_username=watch"
        let config = try RedisConfiguration(url: url)
        #expect(config.username == "app" && config.password == "p@ss" && config.database == 2 && config.tls == nil)
        guard case .sentinel(let sentinel) = config.topology else { Issue.record("not a Sentinel topology"); return }
        #expect(sentinel.sentinels == [.tcp(host: "10.0.0.1", port: 26379), .tcp(host: "10.0.0.2", port: 26380), .tcp(host: "::1", port: 26379)])
        #expect(sentinel.masterName == "main" && sentinel.username == "watch" && sentinel.password == "s p")
        #expect(!config.description.contains("p@ss") && !config.description.contains("s p"))
        #expect(config.description == "redis-sentinel://app:***@10.0.0.1:26379,10.0.0.2:26380,[::1]:26379/2?master=main")
        let tls = try RedisConfiguration(url: "rediss-sentinel://h?master=m&ssl_cert_reqs=none")
        #expect(tls.tls?.verifyCertificate == false && tls.database == 0)
        #expect(RedisConfiguration.redact(url) == "redis-sentinel://app:***@10.0.0.1,10.0.0.2:26380,[::1]/2?master=main&sentinel_password=***&sentinel_username=watch")
        #expect(try RedisConfiguration(url: "redis://h").topology == .standalone)
    }

    @Test(arguments: ["redis-sentinel://h/0", "redis-sentinel://h/0?master=", "redis-sentinel://h,,k?master=m", "redis://a,b/0",
                      "redis-sentinel://h:0?master=m"])
    func rejectsBadSentinelURLs(_ url: String) {
        let error = #expect(throws: DefenderError.self) { try RedisConfiguration(url: url) }
        #expect(error?.setting == "DEFENDER_REDIS_URL")
    }

    @Test func aBadSentinelURLNeverShowsItsPasswords() {
        let error = #expect(throws: DefenderError.self) { try RedisConfiguration(url: "redis-sentinel://:pw1@h:99999?master=m&sentinel_password=pw2") }
        #expect(error?.message.contains("pw1") == false && error?.message.contains("pw2") == false)
        // The parser keeps the last of a repeated option: every one is hidden.
        let twice = "redis-sentinel://h:99999?master=m&sentinel_password=first&SENTINEL_PASSWORD=second"
        let repeated = #expect(throws: DefenderError.self) { try RedisConfiguration(url: twice) }
        #expect(repeated?.message.contains("first") == false && repeated?.message.contains("second") == false)
    }

    @Test(arguments: ["localhost:6379", "http://h", "redis://h:0", "redis://h:99999", "redis://h/x", "redis://h?db=-1",
                      "rediss://h?ssl_cert_reqs=maybe", "unix://relative", "redis://u:%zz@h", "redis://h?max_connections=0",
                      "redis://h?=", "redis://h?=1", "redis://h?db"])
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

    /// The class search: generated passwords (weighted to the characters a URL gives meaning to, `/ ? # @ : & = %
    /// +`, as base64 and password managers produce them), in every URL form and beside every mistake a URL can
    /// hold. Whatever the parser makes of it (a configuration or an error), no message, description or redaction
    /// holds the password, nor six characters of it in a row (one with an unencoded `?` or `/` once came back
    /// whole in "bad host or port ':abc'").
    @Test func generatedPasswordsNeverAppearInMessages() throws {
        var random = SplitMix64(seed: 0x0D15_EA5E)
        let plain = Array("ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789")
        let meaningful = Array("/?#@:&=%+")
        let forms: [(String) -> String] = [
            { "redis://:\($0)@redis.internal:6379/0" },
            { "redis://app:\($0)@redis.internal:6379/0?db=1" },
            { "rediss://:\($0)@redis:6380/0?ssl_cert_reqs=CERT_REQUIRED" },
            { "redis://redis/0?password=\($0)&max_connections=100" },
            { "redis-sentinel://s1,s2/0?master=m&sentinel_password=\($0)&db=x" },
            { "redis-cluster://:\($0)@n1:7000,n2:7001" },
            { "redis://:\($0)@host:notaport" },
            // A lone value is the password; one holding `:` is a user and a password (as redis-py reads it).
            { "redis://\($0)@host/0" },
            { "redis://app:\($0)@host/0?socket_timeout=5" },
        ]
        for round in 0..<3_000 {
            let length = Int.random(in: 8...20, using: &random)
            let special = round % forms.count == 7 ? meaningful.filter { $0 != ":" } : meaningful
            var letters: [Character] = []
            for _ in 0..<length {
                let pool = Int.random(in: 0..<4, using: &random) == 0 ? special : plain
                letters.append(pool[Int.random(in: 0..<pool.count, using: &random)])
            }
            let password = String(letters)
            let form = forms[round % forms.count]
            let url = form(password)
            var shown = [RedisConfiguration.redact(url)]
            do {
                let configuration = try RedisConfiguration(url: url)
                shown += [configuration.description, "\(configuration)"]
            } catch {
                shown += [error.message, error.description, "\(error)", (error.underlying as? RedisError)?.description ?? ""]
            }
            // Six characters in a row of the password, unless the URL has them without it.
            let template = form("\u{1}")
            let characters = Array(password)
            let windows = (0...(characters.count - 6)).map { String(characters[$0..<($0 + 6)]) }.filter { !template.contains($0) }
            for text in shown {
                let leaked = windows.first { text.contains($0) }
                #expect(leaked == nil, "round \(round): '\(leaked ?? "")' of the password shows in \(text)")
                if leaked != nil { return }
            }
        }
    }

    /// redis-py's `?password=`/`?username=` are the credentials; any other unknown option is refused by name (it
    /// was ignored: a misspelt password option connected without one).
    @Test func queryCredentialsAndUnknownOptions() throws {
        let configuration = try RedisConfiguration(url: "redis://redis/0?username=app&password=s%40cret")
        #expect(configuration.username == "app" && configuration.password == "s@cret")
        let unknown = #expect(throws: DefenderError.self) { try RedisConfiguration(url: "redis://redis/0?pasword=secret") }
        #expect(unknown?.message.contains("unknown option 'pasword'") == true && unknown?.message.contains("secret") == false)
    }
}

/// A Redis configuration printed, dumped or interpolated never shows its password or the Sentinels' password.
@Suite struct RedisConfigurationConcealmentTests {
    @Test func passwordsAreNeverRendered() throws {
        var random = SplitMix64(seed: 0x5EC2E7)
        let alphabet = Array("abcXYZ0189-._~!$&'()*+,;=:@/?#[]% \"\\")
        func secret() -> String { "Pw" + String((0..<Int.random(in: 12...40, using: &random)).map { _ in alphabet.randomElement(using: &random)! }) }
        for _ in 0..<300 {
            let (password, sentinelPassword) = (secret(), secret())
            let encode = { (text: String) in text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! }
            let url = "redis-sentinel://app:\(encode(password))@10.0.0.1,10.0.0.2/1?master=main&sentinel_password=\(encode(sentinelPassword))"
            let configuration = try RedisConfiguration(url: url)
            guard case .sentinel(let sentinel) = configuration.topology else { Issue.record("not Sentinel"); return }
            #expect(configuration.password == password && sentinel.password == sentinelPassword, "the values themselves are kept")
            for text in everyRendering(of: configuration) + everyRendering(of: sentinel) {
                for hidden in [password, sentinelPassword, encode(password), encode(sentinelPassword)] {
                    #expect(!text.contains(hidden), "\(hidden)")
                }
                #expect(text.contains("10.0.0.1"))
            }
        }
    }
}

/// Which Redis errors leave reads working (`ReadableOutage`): those that refuse writes only.
@Suite struct ReadableOutageClassificationTests {
    @Test func onlyWriteRefusalsStillRead() {
        for word in ["READONLY", "OOM", "MISCONF", "NOREPLICAS"] {
            #expect(RedisError(.serverError, "\(word) something").storeStillReads, "\(word)")
        }
        for word in ["LOADING", "MASTERDOWN", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "NOAUTH", "ERR", "WRONGTYPE", "NOSCRIPT"] {
            #expect(!RedisError(.serverError, "\(word) something").storeStillReads, "\(word)")
        }
        for code in [RedisError.Code.connectionFailed, .connectionLost, .timeout, .protocolError, .handshakeFailed, .shutDown] {
            #expect(!RedisError(code, "OOM in the message is not a reply").storeStillReads, "\(code)")
        }
    }

    /// A store factory given its own URL dumps and prints it with the password hidden.
    @Test func aFactorysURLIsNeverRendered() {
        let factory = RedisStoreFactory(url: "redis://app:S3cretFactoryPw@cache.internal:6379/0")
        #expect(factory.url == "redis://app:S3cretFactoryPw@cache.internal:6379/0")
        for text in everyRendering(of: factory) { #expect(!text.contains("S3cretFactoryPw") && text.contains("cache.internal")) }
    }
}
