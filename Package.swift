// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// The external products a target may use only when a package trait is on. A consumer names the traits it needs
/// (`.package(url: …, from: …, traits: ["Vapor"])`) and SwiftPM then neither resolves nor builds the packages
/// that only other traits use: a Vapor app does not fetch Hummingbird, Fluent, PostgreSQL or Prometheus. The
/// default traits turn everything on, so that this package's own `swift run defender-demo serve` and
/// `scripts/test` need no flags (and a consumer that names no traits gets every integration, as before 0.2.0).
func product(_ name: String, _ package: String, trait: String) -> Target.Dependency {
    .product(name: name, package: package, condition: .when(traits: [trait]))
}

let package = Package(
    name: "defender",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "DefenderCore", targets: ["DefenderCore"]),
        .library(name: "DefenderHTTP", targets: ["DefenderHTTP"]),
        .library(name: "DefenderRedis", targets: ["DefenderRedis"]),
        .library(name: "DefenderMail", targets: ["DefenderMail"]),
        .library(name: "DefenderVapor", targets: ["DefenderVapor"]),
        .library(name: "DefenderHummingbird", targets: ["DefenderHummingbird"]),
        .library(name: "DefenderFluent", targets: ["DefenderFluent"]),
        .library(name: "DefenderTesting", targets: ["DefenderTesting"]),
        .executable(name: "defender-demo", targets: ["defender-demo"]),
        .executable(name: "defender-demo-hummingbird", targets: ["defender-demo-hummingbird"]),
    ],
    traits: [
        .trait(name: "Vapor", description: "DefenderVapor: the Vapor integration."),
        .trait(name: "Hummingbird", description: "DefenderHummingbird: the Hummingbird integration."),
        .trait(name: "Fluent", description: "DefenderFluent: the audit log in a Fluent database."),
        .trait(
            name: "Demos",
            description: "The two demos (SQLite, PostgreSQL, Prometheus, a command line); turns on every integration.",
            enabledTraits: ["Vapor", "Hummingbird", "Fluent"]
        ),
        .default(enabledTraits: ["Demos"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin.git", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/vapor/fluent.git", from: "4.13.0"),
        .package(url: "https://github.com/vapor/fluent-kit.git", from: "1.57.0"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver.git", from: "4.9.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver.git", from: "2.14.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/vapor/multipart-kit.git", from: "4.7.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        .target(
            name: "DefenderCore",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DefenderHTTP",
            dependencies: [
                "DefenderCore",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            resources: [.copy("Templates")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DefenderRedis",
            dependencies: [
                "DefenderCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DefenderMail",
            dependencies: [
                "DefenderCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // One tiny target per trait, that each gated target depends on: it is compiled first and, when its trait is
        // off, stops the build with a message naming the trait to turn on (instead of "no such module 'Vapor'").
        .target(name: "DefenderVaporTraitCheck", path: "Sources/TraitChecks/Vapor"),
        .target(name: "DefenderHummingbirdTraitCheck", path: "Sources/TraitChecks/Hummingbird"),
        .target(name: "DefenderFluentTraitCheck", path: "Sources/TraitChecks/Fluent"),
        .target(name: "DefenderDemosTraitCheck", path: "Sources/TraitChecks/Demos"),
        .target(
            name: "DefenderVapor",
            dependencies: [
                "DefenderCore", "DefenderHTTP", "DefenderVaporTraitCheck",
                product("Vapor", "vapor", trait: "Vapor"),
                // Vapor's own dependency: the webhook notifier's client, which must not follow redirects.
                product("AsyncHTTPClient", "async-http-client", trait: "Vapor"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DefenderHummingbird",
            dependencies: [
                "DefenderCore", "DefenderHTTP", "DefenderHummingbirdTraitCheck",
                product("Hummingbird", "hummingbird", trait: "Hummingbird"),
                product("HummingbirdAuth", "hummingbird-auth", trait: "Hummingbird"),
                product("HummingbirdBasicAuth", "hummingbird-auth", trait: "Hummingbird"),
                product("MultipartKit", "multipart-kit", trait: "Hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DefenderFluent",
            dependencies: [
                "DefenderCore", "DefenderFluentTraitCheck",
                product("FluentKit", "fluent-kit", trait: "Fluent"),
                product("FluentSQL", "fluent-kit", trait: "Fluent"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DefenderTesting",
            dependencies: [
                "DefenderCore",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DefenderDemoSupport",
            dependencies: [
                "DefenderCore", "DefenderHTTP", "DefenderMail", "DefenderDemosTraitCheck",
                product("FluentKit", "fluent-kit", trait: "Demos"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DefenderHummingbirdDemoApp",
            dependencies: [
                "DefenderDemoSupport", "DefenderHummingbird", "DefenderRedis", "DefenderFluent",
                product("Hummingbird", "hummingbird", trait: "Demos"),
                product("HummingbirdAuth", "hummingbird-auth", trait: "Demos"),
                product("HummingbirdBcrypt", "hummingbird-auth", trait: "Demos"),
                product("FluentKit", "fluent-kit", trait: "Demos"),
                product("FluentSQLiteDriver", "fluent-sqlite-driver", trait: "Demos"),
                product("FluentPostgresDriver", "fluent-postgres-driver", trait: "Demos"),
                product("Prometheus", "swift-prometheus", trait: "Demos"),
                product("AsyncHTTPClient", "async-http-client", trait: "Demos"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "defender-demo-hummingbird",
            dependencies: [
                "DefenderHummingbirdDemoApp", "DefenderDemoSupport", "DefenderHummingbird",
                product("ArgumentParser", "swift-argument-parser", trait: "Demos"),
                product("Hummingbird", "hummingbird", trait: "Demos"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DefenderDemoApp",
            dependencies: [
                "DefenderDemoSupport", "DefenderVapor", "DefenderHTTP", "DefenderRedis", "DefenderFluent",
                product("Vapor", "vapor", trait: "Demos"),
                product("Fluent", "fluent", trait: "Demos"),
                product("FluentSQL", "fluent-kit", trait: "Demos"),
                product("FluentSQLiteDriver", "fluent-sqlite-driver", trait: "Demos"),
                product("FluentPostgresDriver", "fluent-postgres-driver", trait: "Demos"),
                product("Prometheus", "swift-prometheus", trait: "Demos"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "defender-demo",
            dependencies: ["DefenderDemoApp", "DefenderVapor", product("Vapor", "vapor", trait: "Demos")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DefenderCoreTests",
            dependencies: [
                "DefenderCore", "DefenderTesting", .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DefenderMailTests",
            dependencies: [
                "DefenderMail", "DefenderCore", "DefenderTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DefenderHTTPTests",
            dependencies: [
                "DefenderHTTP", "DefenderCore", "DefenderTesting", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DefenderRedisTests",
            dependencies: [
                "DefenderRedis", "DefenderTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DefenderVaporTests",
            dependencies: [
                // DefenderRedis: the combined README app runs on Redis, as the quick start says to add it.
                "DefenderVapor", "DefenderTesting", "DefenderRedis",
                // DefenderMail: the README's unlock e-mail set-up is compiled and run here.
                "DefenderMail",
                .product(name: "VaporTesting", package: "vapor"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                // The README's password check reads its users with Fluent, as a Vapor app does.
                .product(name: "Fluent", package: "fluent"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DefenderHummingbirdTests",
            dependencies: [
                "DefenderHummingbird", "DefenderTesting",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdRouter", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HummingbirdBasicAuth", package: "hummingbird-auth"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            // Both demos' contract tests: each runs against the Vapor and the Hummingbird demo.
            name: "DefenderDemoTests",
            dependencies: [
                "DefenderDemoApp", "DefenderHummingbirdDemoApp", "DefenderDemoSupport", "DefenderFluent", "DefenderTesting",
                "DefenderCore", "DefenderHummingbird", "DefenderRedis",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "FluentSQL", package: "fluent-kit"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "VaporTesting", package: "vapor"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
