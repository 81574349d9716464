// swift-tools-version:6.1
// Micro benchmarks, kept out of the main build: `cd Benchmarks && swift package benchmark`.
import PackageDescription

let package = Package(
    name: "defender-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "defender", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "DefenderBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "DefenderCore", package: "defender"),
                .product(name: "DefenderRedis", package: "defender"),
            ],
            path: "Benchmarks/DefenderBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
