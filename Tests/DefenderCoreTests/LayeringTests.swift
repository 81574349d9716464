import Foundation
import Testing

/// The module graph of DESIGN §1, checked on the sources: the engine, the HTTP layer and the Redis client import no
/// web framework, and the Vapor integration does not link Redis (an app picks its store; the integration does not).
@Suite struct LayeringTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The modules each target's sources must not import.
    static let forbidden: [String: Set<String>] = [
        "DefenderCore": ["Vapor", "Hummingbird", "HummingbirdAuth", "Fluent", "FluentKit", "NIOCore", "NIOPosix", "NIOSSL", "DefenderRedis", "DefenderVapor", "DefenderHTTP"],
        "DefenderHTTP": ["Vapor", "Hummingbird", "HummingbirdAuth", "Fluent", "FluentKit", "DefenderRedis", "DefenderVapor", "NIOSSL"],
        "DefenderRedis": ["Vapor", "Hummingbird", "HummingbirdAuth", "Fluent", "FluentKit", "DefenderVapor", "DefenderHTTP"],
        "DefenderVapor": ["DefenderRedis", "NIOSSL", "Fluent", "FluentKit", "Hummingbird"],
        "DefenderHummingbird": ["Vapor", "DefenderVapor", "DefenderRedis", "Fluent", "FluentKit", "DefenderFluent", "NIOSSL"],
        "DefenderFluent": ["Vapor", "Fluent", "DefenderVapor", "DefenderHTTP", "Hummingbird", "HummingbirdAuth", "DefenderRedis"],
        // What both demos share cannot lean on either framework, or the two would stop answering alike.
        "DefenderDemoSupport": ["Vapor", "Fluent", "DefenderVapor", "Hummingbird", "HummingbirdAuth", "DefenderHummingbird", "DefenderRedis"],
        "DefenderHummingbirdDemoApp": ["Vapor", "Fluent", "DefenderVapor", "DefenderDemoApp"],
    ]

    static func imports(of target: String) throws -> [(file: String, module: String)] {
        let directory = root.appendingPathComponent("Sources/\(target)")
        guard let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else { return [] }
        var result: [(String, String)] = []
        for case let url as URL in files where url.pathExtension == "swift" {
            for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n") {
                let words = line.split(separator: " ").filter { !$0.hasPrefix("@") }
                guard words.first == "import" || (words.count > 2 && words[1] == "import"), let module = words.last else { continue }
                result.append((url.lastPathComponent, String(module)))
            }
        }
        return result
    }

    @Test func noTargetImportsWhatItMustNot() throws {
        for (target, banned) in Self.forbidden {
            let found = try Self.imports(of: target)
            if target != "DefenderHTTP" { #expect(!found.isEmpty, "no sources read for \(target)") }
            for (file, module) in found where banned.contains(module) {
                Issue.record("\(target)/\(file) imports \(module)")
            }
        }
    }

    /// The same rule in the package manifest: the Vapor target does not depend on the Redis target.
    @Test func vaporTargetDoesNotDependOnRedis() throws {
        let manifest = try String(contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        for (target, banned) in [("DefenderVapor", ["DefenderRedis", "fluent"]), ("DefenderHummingbird", ["DefenderRedis", "vapor", "fluent"]),
                                 ("DefenderFluent", ["vapor\"", "DefenderVapor", "DefenderHTTP"])] {
            let start = try #require(manifest.range(of: "name: \"\(target)\",\n            dependencies: ["))
            let end = try #require(manifest[start.upperBound...].range(of: "]"))
            for name in banned { #expect(!manifest[start.upperBound..<end.lowerBound].contains(name), "\(target) depends on \(name)") }
        }
    }
}
