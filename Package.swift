// swift-tools-version:6.1
import PackageDescription

/// Every target compiles in Swift 6 mode with complete concurrency checking; `any` is spelled out; a file sees
/// only the modules it imports, and an import is internal unless it says otherwise (so a module's public
/// interface names exactly the modules it re-exposes).
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// Linux only (Glibc, ICMP sockets, glibc symbol pins): there is no `platforms` entry, since SwiftPM has none
/// for Linux, and a macOS one would promise a build that does not exist.
let package = Package(
    name: "uptick",
    products: [
        .executable(name: "uptick", targets: ["uptick"]),
        .executable(name: "uptick-bench", targets: ["UptickBench"]),
        // What a backend written in Swift shares with the runner (docs/library.md): the domain (monitor
        // definitions, validation, schedule math) and the store's catalogue. Every other module is the runner's
        // own (`package` access), free to change.
        .library(name: "UptickCore", targets: ["UptickCore"]),
        .library(name: "UptickStore", targets: ["UptickStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // The HTTP server of `run --http` and `serve`; its default traits (swift-configuration, full Foundation) are not needed.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // The PostgreSQL store (`--db postgres://`): the wire protocol, SCRAM, TLS and a connection pool.
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "CGlibcCompat", path: "Sources/CGlibcCompat"),
        .target(name: "UptickCore", swiftSettings: strict),
        .target(
            name: "UptickNet",
            dependencies: [
                "UptickCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "UptickProbes",
            dependencies: [
                "UptickCore", "UptickNet",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(name: "UptickStore", dependencies: ["UptickCore", "CSQLite"], swiftSettings: strict),
        .target(
            name: "UptickHTTPClient",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "UptickAWS",
            dependencies: [
                "UptickHTTPClient",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "UptickLambda",
            dependencies: [
                "UptickHTTPClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "UptickLibSQL",
            dependencies: [
                "UptickCore", "UptickStore", "UptickHTTPClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "UptickPostgres",
            dependencies: [
                "UptickCore", "UptickStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "UptickEngine",
            dependencies: [
                "UptickCore", "UptickProbes", "UptickStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "UptickAlerts",
            dependencies: [
                "UptickCore", "UptickNet", "UptickStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "UptickQueue",
            dependencies: [
                "UptickCore", "UptickStore", "UptickEngine", "UptickAWS",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "UptickWeb",
            dependencies: [
                "UptickCore", "UptickStore", "UptickEngine", "UptickAlerts",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "UptickApp",
            dependencies: [
                "UptickCore", "UptickNet", "UptickProbes", "UptickStore", "UptickEngine", "UptickAlerts", "UptickLibSQL", "UptickLambda",
                "UptickAWS", "UptickQueue", "UptickWeb", "UptickPostgres",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "uptick",
            dependencies: [
                "UptickApp", "UptickCore", "UptickNet", "UptickStore", "UptickEngine", "UptickProbes", "UptickAlerts", "UptickLambda",
                "UptickAWS", "UptickQueue", "UptickWeb", "CGlibcCompat",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "UptickTargets",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            resources: [.copy("Resources/bomb.gz")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "UptickBench",
            dependencies: [
                "UptickCore", "UptickNet", "UptickStore", "UptickEngine", "UptickProbes", "UptickTargets", "UptickApp", "UptickAlerts",
                "UptickHTTPClient", "UptickWeb", "UptickPostgres",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks/UptickBench",
            swiftSettings: strict
        ),
        // The parsers of outside bytes as fuzz targets (docs/fuzzing.md): replayed by the tests, fuzzed by `uptick-fuzz`
        // when it is built with `-sanitize=fuzzer -DFUZZING`.
        .target(
            name: "UptickFuzz",
            dependencies: ["UptickApp", "UptickCore", "UptickLibSQL", "UptickNet"],
            path: "Fuzz/Targets",
            swiftSettings: strict
        ),
        .executableTarget(name: "uptick-fuzz", dependencies: ["UptickFuzz"], path: "Fuzz/Main", swiftSettings: strict),
        .target(
            name: "UptickTestSupport",
            dependencies: [
                "UptickCore", "UptickNet", "UptickStore", "UptickLibSQL", "UptickPostgres", "UptickAWS", "CSQLite",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/UptickTestSupport",
            swiftSettings: strict
        ),
        .testTarget(name: "UptickCoreTests", dependencies: ["UptickCore", "UptickTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "UptickNetTests",
            dependencies: [
                "UptickCore", "UptickNet", "UptickProbes", "UptickEngine", "UptickTestSupport", "UptickTargets",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "UptickStoreTests",
            dependencies: ["UptickCore", "UptickStore", "UptickLibSQL", "UptickPostgres", "UptickHTTPClient", "UptickTestSupport", "UptickTargets"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "UptickEngineTests",
            dependencies: [
                "UptickCore", "UptickStore", "UptickEngine", "UptickProbes", "UptickApp", "UptickTestSupport", "UptickTargets",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "UptickAlertsTests",
            dependencies: [
                "UptickCore", "UptickStore", "UptickAlerts", "UptickApp", "UptickEngine", "UptickProbes", "UptickNet", "UptickTestSupport", "UptickTargets",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "UptickAWSTests", dependencies: ["UptickAWS", "UptickTargets", "UptickTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "UptickQueueTests",
            dependencies: [
                "UptickQueue", "UptickAWS", "UptickApp", "UptickCore", "UptickEngine", "UptickStore", "UptickLambda", "UptickTargets", "UptickTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "UptickWebTests",
            dependencies: [
                "UptickWeb", "UptickCore", "UptickEngine", "UptickStore", "UptickLibSQL", "UptickHTTPClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "UptickAppTests",
            dependencies: [
                "UptickApp", "UptickCore", "UptickEngine", "UptickStore", "UptickLambda", "UptickTargets", "UptickTestSupport", "UptickFuzz",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "UptickCLITests",
            // `uptick` is built before these tests run, which spawn it.
            dependencies: [
                "uptick", "UptickApp", "UptickAWS", "UptickCore", "UptickStore", "UptickPostgres", "UptickLambda", "UptickTestSupport", "UptickTargets",
                "UptickHTTPClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
    ]
)
