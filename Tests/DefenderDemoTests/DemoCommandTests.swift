import Crypto
import DefenderDemoApp
import DefenderFluent
import DefenderTesting
import DefenderVapor
import Fluent
import FluentSQLiteDriver
import Foundation
import Synchronization
import Testing
import Vapor
import VaporTesting

/// `defender-demo defender cleanup | blocks | block | unblock`, run as real processes.
@Suite(.serialized) struct DemoCommandTests {
    @Test(arguments: DemoFramework.allCases) func memoryStoreCommandsExplainWhereTheStateIs(_ framework: DemoFramework) async throws {
        try await withDemoFiles(framework) { (executable, env, _) async throws in
            for arguments in [["defender", "blocks"], ["defender", "block", "--ip", "192.0.2.1"], ["defender", "unblock", "--username", "x"]] {
                let (status, output) = try await DemoProcess.run(executable, arguments, environment: env)
                #expect(status != 0, "\(arguments)")
                #expect(output.contains("inside the running server process") && output.contains("/admin/defender/api/blocks"), "\(output)")
            }
        }
    }

    /// Both executables read the operator command line with the one parser (`OperatorCommandLine`): the same
    /// mistakes get the same words, and `--help` prints the command's usage.
    @Test(arguments: DemoFramework.allCases) func commandLineMistakesAreNamedTheSameWay(_ framework: DemoFramework) async throws {
        try await withDemoFiles(framework) { (executable, env, _) async throws in
            for (arguments, expected) in [
                (["block", "--ip", "192.0.2.1", "--seconds", "ten"], "--seconds must be a whole number, not 'ten'"),
                (["block", "--address", "192.0.2.1"], "has no option --address"),
                (["deny"], "needs NETWORK"),
            ] {
                let (status, output) = try await DemoProcess.run(executable, ["defender"] + arguments, environment: env)
                #expect(status != 0 && output.contains(expected), "\(framework) \(arguments): \(output)")
            }
            let (status, output) = try await DemoProcess.run(executable, ["defender", "block", "--help"], environment: env)
            #expect(status == 0 && output.contains("defender block [--ip IP] [--username USERNAME] [--seconds SECONDS]"), "\(framework): \(output)")
        }
    }

    @Test(arguments: DemoFramework.allCases) func blockUnblockAndListThroughRedisWithWebhookEvents(_ framework: DemoFramework) async throws {
        guard let url = await SharedRedis.url else { return }
        let secret = "webhook-secret-\(UUID().uuidString)"
        try await withWebhookReceiver(secret: secret) { (hook, received) async throws in
            let env = [
                "DEFENDER_STORE": "redis", "DEFENDER_REDIS_URL": url, "DEFENDER_CACHE_PREFIX": "cmd-\(UUID().uuidString)", "DEFENDER_NOTIFY_WEBHOOK_URL": hook,
                "DEFENDER_NOTIFY_WEBHOOK_SECRET": secret,
            ]
            try await withDemoFiles(framework, env) { (executable, env, _) async throws in
                func run(_ arguments: String...) async throws -> (Int32, String) { try await DemoProcess.run(executable, ["defender"] + arguments, environment: env) }
                var (status, output) = try await run("block", "--ip", "2001:db8::5", "--seconds", "120")
                #expect(status == 0 && output.contains("Blocked ip 2001:db8::/64 for 120 seconds."), "\(output)")
                (status, output) = try await run("block", "--ip", "2001:db8::6")  // same group, already blocked: no second event
                #expect(status == 0)
                (status, output) = try await run("block", "--username", "Eve")
                #expect(status == 0 && output.contains("Blocked username eve until unblocked."), "\(output)")
                (status, output) = try await run("blocks", "--json")
                let report = try JSONDecoder().decode(BlocksReport.self, from: Data(output.utf8.drop { $0 != UInt8(ascii: "{") }))
                #expect(report.ips.map(\.ip) == ["2001:db8::/64"] && report.ips[0].secondsLeft == nil)  // the later, permanent block won
                #expect(report.usernames == [.init(username: "eve", secondsLeft: nil, manual: true, lockouts: 0)])
                (status, output) = try await run("blocks")
                #expect(output.contains("Blocked IPs: 1") && output.contains("eve  permanent  (manual)"), "\(output)")
                (status, output) = try await run("unblock", "--username", "EVE")
                #expect(status == 0 && output.contains("Unblocked username eve."))
                (status, output) = try await run("unblock", "--username", "eve")
                #expect(output.contains("was not blocked"))
                (status, output) = try await run("block")
                #expect(status != 0 && output.contains("exactly one of --ip ADDRESS or --username NAME"), "\(output)")
                (status, output) = try await run("block", "--ip", "garbage")
                #expect(status != 0 && output.contains("is not an IP address"), "\(output)")
            }
            // Each transition fired once, from the command processes, and blocks reached the webhook.
            #expect(received.events.withLock { $0 } == ["ipBlocked ip 2001:db8::/64 manual", "usernameBlocked username eve manual"])
            #expect(received.signatures.withLock { $0 } == ["signed", "signed"], "each body signed with the secret")
        }
    }

    /// Redis cannot be reached: an operator's command fails and says so (exit status 1) under every failure policy,
    /// instead of "Blocked …" from the command process's own memory, which protects nothing.
    @Test(arguments: DemoFramework.allCases) func commandsDuringAnOutageFailAndSaySo(_ framework: DemoFramework) async throws {
        let env = ["DEFENDER_STORE": "redis", "DEFENDER_REDIS_URL": "redis://127.0.0.1:1/0?connect_timeout=0.3&command_timeout=0.3"]
        try await withDemoFiles(framework, env) { (executable, env, _) async throws in
            for arguments in [["block", "--ip", "192.0.2.1"], ["unblock", "--username", "eve"], ["blocks"]] {
                let (status, output) = try await DemoProcess.run(executable, ["defender"] + arguments, environment: env)
                #expect(status != 0 && output.contains("unreachable") && !output.contains("Blocked") && !output.contains("was not blocked"),
                    "\(framework) \(arguments): \(status) \(output)")
            }
        }
    }

    /// A webhook that answers with a redirect is not followed: the signed body, which names blocked addresses and
    /// usernames, goes to the configured URL and nowhere else (a `307` would have it re-POSTed there).
    @Test(arguments: DemoFramework.allCases) func aRedirectingWebhookIsNotFollowed(_ framework: DemoFramework) async throws {
        try await withWebhookReceiver { (hook, received) async throws in
            let moved = hook.replacingOccurrences(of: "/hook", with: "/moved")
            try await withDemo(["DEFENDER_NOTIFY_WEBHOOK_URL": moved, "DEFENDER_BEHIND_REVERSE_PROXY": "true"], on: framework) { (demo) async throws in
                for _ in 0..<4 { _ = try await demo.login("alice", "wrong", forwardedFor: "203.0.113.9") }  // ipBlocked, usernameBlocked
                #expect(try await eventually(within: .seconds(10)) { received.redirected.withLock { $0 } == 2 })
                // A client that follows does so at once, within the same request; give it time all the same.
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(received.events.withLock { $0 }.isEmpty, "\(received.events.withLock { $0 })")
        }
    }

    /// A webhook that cannot be reached: logins and lockouts go on as before (it runs in the event task).
    @Test(arguments: DemoFramework.allCases) func failingWebhookNeverAffectsLogins(_ framework: DemoFramework) async throws {
        try await withDemo(["DEFENDER_NOTIFY_WEBHOOK_URL": "http://127.0.0.1:1/hook", "DEFENDER_BEHIND_REVERSE_PROXY": "true"], on: framework) { (demo) async throws in
            for _ in 0..<3 { #expect(try await demo.login("alice", "wrong", forwardedFor: "203.0.113.1").status == .unauthorized) }
            #expect(try await demo.login("alice", "wrong", forwardedFor: "203.0.113.1").status == .forbidden)  // fires ipBlocked, usernameBlocked
            try await demo.createUser("bob", "pw", admin: false)
            #expect(try await demo.login("bob", "pw", forwardedFor: "198.51.100.1").status == .found)
        }
        #expect(throws: DefenderError.self) { try DemoSettings.fromEnvironment(["DEFENDER_NOTIFY_WEBHOOK_URL": "ftp://x"]) }
        // A secret needs a webhook to sign for, and enough of itself to resist guessing; it never renders.
        #expect(throws: DefenderError.self) { try DemoSettings.fromEnvironment(["DEFENDER_NOTIFY_WEBHOOK_SECRET": "0123456789abcdef"]) }
        let short = #expect(throws: DefenderError.self) {
            try DemoSettings.fromEnvironment(["DEFENDER_NOTIFY_WEBHOOK_URL": "https://h/x", "DEFENDER_NOTIFY_WEBHOOK_SECRET": "short"])
        }
        #expect(short?.setting == "DEFENDER_NOTIFY_WEBHOOK_SECRET" && short?.description.contains("short") == false)
        let signed = try DemoSettings.fromEnvironment(["DEFENDER_NOTIFY_WEBHOOK_URL": "https://h/x", "DEFENDER_NOTIFY_WEBHOOK_SECRET": "HookSecretValue123"])
        #expect(signed.webhookSecret == DefenderSecret("HookSecretValue123") && signed.defender.unrecognizedEnvironmentVariables.isEmpty)
        #expect(everyRendering(of: signed).allSatisfy { !$0.contains("HookSecretValue123") })
    }

    @Test(arguments: DemoFramework.allCases) func cleanupDeletesExactlyTheExpiredRows(_ framework: DemoFramework) async throws {
        try await withDemoFiles(framework, ["DEFENDER_ACCESS_ATTEMPT_EXPIRATION": "24"]) { (executable, env, file) async throws in
            let now = Date()
            try await withApp { (app) async throws in
                app.databases.use(.sqlite(.file(file)), as: .sqlite)
                for (index, hoursAgo) in [25.0, 24.1, 100, 23.9, 0].enumerated() {
                    try await AccessAttempt(AccessAttemptRecord(
                        attemptTime: now.addingTimeInterval(-hoursAgo * 3600), username: "u\(index)", ipAddress: "192.0.2.1",
                        userAgent: "", httpAccept: "", pathInfo: "/login", loginValid: false)).create(on: app.db)
                }
            }
            let (status, output) = try await DemoProcess.run(executable, ["defender", "cleanup"], environment: env)
            #expect(status == 0 && output.contains("Deleted 3 access attempts older than 24 hours."), "\(output)")
            try await withApp { (app) async throws in
                app.databases.use(.sqlite(.file(file)), as: .sqlite)
                #expect(try await AccessAttempt.query(on: app.db).sort(\.$username).all(\.$username) == ["u3", "u4"])
            }
        }
    }

    @Test(arguments: DemoFramework.allCases) func deleteOlderWorksInBatches(_ framework: DemoFramework) async throws {
        try await withDemo(on: framework) { (demo) async throws in
            let old = Date().addingTimeInterval(-86_400 * 3)
            for index in 0..<23 {
                try await AccessAttempt(AccessAttemptRecord(
                    attemptTime: index < 17 ? old : Date(), username: "b\(index)", ipAddress: "192.0.2.1", userAgent: "", httpAccept: "",
                    pathInfo: "/login", loginValid: false)).create(on: demo.database)
            }
            #expect(try await AccessAttempt.deleteOlder(than: Date().addingTimeInterval(-86_400), batchSize: 5, on: demo.database) == 17)
            #expect(try await AccessAttempt.query(on: demo.database).count() == 6)
        }
    }
}

/// A webhook receiver on a free loopback port: `body` gets its URL and the events received ("kind key"). With a
/// `secret` it checks each body's signature as a receiver would (`HMAC-SHA-256(secret, body)`, swift-crypto's, in
/// `X-Defender-Signature-256: sha256=…`) and records `signed`, `unsigned` or `forged` in ``WebhookLog/signatures``.
func withWebhookReceiver(secret: String? = nil, _ body: (String, WebhookLog) async throws -> Void) async throws {
    let received = WebhookLog()
    try await withApp { (app) async throws in
        app.logger.logLevel = .warning
        app.post("hook") { req async throws -> HTTPStatus in
            let payload = try req.content.decode(DefenderWebhookNotifier.Payload.self)
            received.events.withLock { $0.append("\(payload.event) \(payload.kind) \(payload.key) \(payload.cause ?? "-")") }
            if let secret {
                let bytes = Data(req.body.data.map { Array($0.readableBytesView) } ?? [])
                let mac = HMAC<SHA256>.authenticationCode(for: bytes, using: SymmetricKey(data: Data(secret.utf8)))
                let expected = "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
                let given = req.headers.first(name: "X-Defender-Signature-256")
                received.signatures.withLock { $0.append(given == nil ? "unsigned" : given == expected ? "signed" : "forged") }
            }
            return .noContent
        }
        // A webhook that moved: a notifier that followed it would deliver the body to `/hook` as well.
        app.post("moved") { req async throws -> Response in
            received.redirected.withLock { $0 += 1 }
            return Response(status: .temporaryRedirect, headers: ["Location": "/hook"])
        }
        try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        let port = app.http.server.shared.localAddress?.port ?? 0
        do {
            try await body("http://127.0.0.1:\(port)/hook", received)
        } catch {
            await app.server.shutdown()
            throw error
        }
        await app.server.shutdown()
    }
}

/// What a test webhook received.
final class WebhookLog: Sendable {
    let events = Mutex<[String]>([])
    /// With a secret: how each body's signature checked out.
    let signatures = Mutex<[String]>([])
    /// POSTs `/moved` answered with a `307` to `/hook`.
    let redirected = Mutex(0)
}
