import Foundation
import Testing

/// Each product pulls only what it needs: an app that names the traits of the integrations it uses resolves no
/// package that only the others use. Checked by resolving a throw-away consumer package (the same `swift` that
/// runs the tests; the packages come from wherever this machine's SwiftPM gets them). It is heavy, so it runs only
/// when `DEFENDER_TEST_PACKAGE_TRAITS=1`, which `scripts/test` sets for a second `swift test` after the suite.
@Suite(.enabled(
    if: ProcessInfo.processInfo.environment["DEFENDER_TEST_PACKAGE_TRAITS"] == "1",
    "scripts/test runs it on its own after the suite (DEFENDER_TEST_PACKAGE_TRAITS=1): beside it, it starved deadlines"))
struct PackageTraitsTests {
    /// Packages only Fluent, Hummingbird, the demos or the documentation need.
    static let heavy = [
        "fluent", "fluent-kit", "fluent-postgres-driver", "fluent-sqlite-driver", "postgres-nio", "sqlite-nio",
        "swift-prometheus", "hummingbird", "hummingbird-auth", "swift-argument-parser", "swift-docc-plugin",
    ]

    /// Resolves a consumer package in `directory` that names `traits` (`nil`: names none) and uses `product`;
    /// returns the package identities it resolved. Reusing one directory keeps the clones of the first resolution,
    /// so that the later ones cost a second instead of 20 s of CPU beside the rest of the suite.
    static func resolvedPackages(in directory: URL, traits: [String]?, product: String) async throws -> Set<String> {
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("Sources/App"), withIntermediateDirectories: true)
        let traitList = traits.map { ", traits: [" + $0.map { "\"\($0)\"" }.joined(separator: ", ") + "]" } ?? ""
        // A path dependency's identity is its directory's name (`main`, or a CI clone's).
        let identity = LayeringTests.root.lastPathComponent.lowercased()
        let manifest = """
            // swift-tools-version:6.1
            import PackageDescription
            let package = Package(
                name: "consumer",
                dependencies: [.package(path: "\(LayeringTests.root.path)"\(traitList))],
                targets: [.executableTarget(name: "App", dependencies: [.product(name: "\(product)", package: "\(identity)")])]
            )
            """
        try manifest.write(to: directory.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
        try "print(1)\n".write(to: directory.appendingPathComponent("Sources/App/main.swift"), atomically: true, encoding: .utf8)

        // Run without blocking a thread: the test pool has as many threads as cores, and a resolution takes seconds.
        let output = directory.appendingPathComponent("dependencies.json")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swift", "package", "--package-path", directory.path, "show-dependencies", "--format", "json"]
        process.standardOutput = handle
        process.standardError = FileHandle.nullDevice
        try process.run()
        while process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        try handle.close()
        try #require(process.terminationStatus == 0, "swift package show-dependencies failed for traits \(String(describing: traits))")
        let data = try Data(contentsOf: output)
        return try identities(in: JSONSerialization.jsonObject(with: data))
    }

    /// Every `identity` in the dependency tree `show-dependencies --format json` prints.
    static func identities(in node: Any) -> Set<String> {
        guard let object = node as? [String: Any] else { return [] }
        var found: Set<String> = []
        if let identity = object["identity"] as? String { found.insert(identity) }
        for child in object["dependencies"] as? [Any] ?? [] { found.formUnion(identities(in: child)) }
        return found
    }

    /// Without `traits:` a consumer gets the default traits: every integration, as before traits existed. With
    /// `["Vapor"]` a Vapor app resolves neither Fluent, Hummingbird nor the demos' packages; with
    /// `["Hummingbird"]` a Hummingbird app resolves no Vapor.
    @Test func eachIntegrationResolvesOnlyWhatItsTraitsNeed() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("defender-consumer-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }

        let everything = try await Self.resolvedPackages(in: directory, traits: nil, product: "DefenderVapor")
        for package in ["vapor", "hummingbird", "fluent-kit", "swift-prometheus"] {
            #expect(everything.contains(package), "the default traits did not resolve \(package)")
        }

        let vapor = try await Self.resolvedPackages(in: directory, traits: ["Vapor"], product: "DefenderVapor")
        #expect(vapor.contains("vapor"))
        for package in Self.heavy { #expect(!vapor.contains(package), "a Vapor-only app resolved \(package)") }

        let hummingbird = try await Self.resolvedPackages(in: directory, traits: ["Hummingbird"], product: "DefenderHummingbird")
        #expect(hummingbird.contains("hummingbird"))
        for package in ["vapor", "fluent", "fluent-kit", "swift-prometheus", "fluent-postgres-driver"] {
            #expect(!hummingbird.contains(package), "a Hummingbird-only app resolved \(package)")
        }
    }
}
