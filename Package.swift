// swift-tools-version:6.1
// TagTune: multi-label image tagging with a frozen CLIP and LMPT prompt tuning.
// Targets bottom to top: C shims → Compute → Imaging → CLIP → (Tuning) → Server → tagtune.
import PackageDescription

// Numeric kernels are only fast when optimised; `-Ounchecked` is not used so that
// bounds and overflow checks stay on outside the unsafe-pointer loops.
let engineSettings: [SwiftSetting] = [
    .unsafeFlags(["-Xcc", "-O3"], .when(configuration: .release)),
]

let package = Package(
    name: "tagtune",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tagtune", targets: ["tagtune"]),
        // For the fuzz targets' package (Fuzz/), which depends on this one by path.
        .library(name: "FuzzTargets", targets: ["FuzzTargets"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/multipart-kit.git", from: "4.7.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // C: system libraries from Debian's -dev packages (see the Makefile's DEB_PACKAGES) and two C targets, under Sources/C.
        .systemLibrary(name: "CBLAS", path: "Sources/C/CBLAS"),
        .systemLibrary(name: "CTurboJPEG", path: "Sources/C/CTurboJPEG"),
        .systemLibrary(name: "CPNG", path: "Sources/C/CPNG"),
        .systemLibrary(name: "SystemZlib", path: "Sources/C/SystemZlib"),
        .systemLibrary(name: "COpenSSL", path: "Sources/C/COpenSSL"),   // libcrypto: SHA-256 digests

        .target(name: "CImageCodecs", dependencies: ["CPNG", "CTurboJPEG"], path: "Sources/C/CImageCodecs"),
        // The transcendental element-wise kernels, compiled for baseline x86-64 and for AVX2 + FMA.
        .target(name: "CElementwise", path: "Sources/C/CElementwise", cSettings: [.unsafeFlags(["-O3"], .when(configuration: .release))]),
        .target(name: "CAttention", dependencies: ["CElementwise"], path: "Sources/C/CAttention", cSettings: [.unsafeFlags(["-O3"], .when(configuration: .release))]),
        // oneDNN's matmul on weights reordered once at load (Debian's libdnnl-dev).
        .target(
            name: "CPackedGEMM", dependencies: ["CElementwise"], path: "Sources/C/CPackedGEMM",
            cSettings: [.unsafeFlags(["-O3"], .when(configuration: .release))],
            linkerSettings: [.linkedLibrary("dnnl"), .linkedLibrary("gomp")]),
        // The engine's own float32 product on weights packed into 64-column panels (AVX-512).
        .target(name: "CPanelGEMM", dependencies: ["CElementwise"], path: "Sources/C/CPanelGEMM", cSettings: [.unsafeFlags(["-O3"], .when(configuration: .release))]),
        .target(name: "Compute", dependencies: ["CBLAS", "CElementwise", "CAttention", "CPackedGEMM", "CPanelGEMM"], swiftSettings: engineSettings),
        .target(name: "Imaging", dependencies: ["CImageCodecs", "CTurboJPEG", "CPNG"], swiftSettings: engineSettings),
        .target(name: "CLIP", dependencies: ["Compute", "Imaging", "SystemZlib", "COpenSSL"], swiftSettings: engineSettings),
        .target(
            name: "Tuning",
            dependencies: ["CLIP", "Compute", "Imaging", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            swiftSettings: engineSettings),
        .target(
            name: "Server",
            dependencies: [
                "Compute",
                "CLIP",
                "Imaging",
                "Tuning",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "GRDB", package: "GRDB.swift"),          // datasets, jobs, events (one machine)
                .product(name: "PostgresNIO", package: "postgres-nio"), // the same, shared by replicas
                .product(name: "MultipartKit", package: "multipart-kit"),
                // Connection handlers in the channel pipeline (slow bodies, closing after a refusal).
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),   // webhook deliveries
                "COpenSSL",                                                          // their HMAC-SHA256 signatures
            ],
            // The document a person edits; the build serves it from Generated/OpenAPIJSON.swift.
            exclude: ["OpenAPI/openapi.json"]
        ),
        // `tagtune pull`: checkpoints from a Hugging Face hub (AsyncHTTPClient), checked with the CLIP module.
        // The fuzz targets' bodies: run by libFuzzer in Fuzz/ and on their corpus by FuzzTargetTests.
        .target(
            name: "FuzzTargets",
            dependencies: ["CLIP", "Imaging", "Tuning", "Server", .product(name: "NIOCore", package: "swift-nio")]),
        .target(
            name: "Hub",
            dependencies: [
                "CLIP",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "tagtune",
            dependencies: [
                "Server",
                "CLIP",
                "Imaging",
                "Tuning",
                "Hub",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),

        .testTarget(name: "ComputeTests", dependencies: ["Compute", "CElementwise", "CAttention", "CPackedGEMM", "CPanelGEMM"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging"]),
        .testTarget(name: "CLIPTests", dependencies: ["CLIP"]),
        .testTarget(
            name: "TuningTests",
            dependencies: ["Tuning", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        // Runs the built `tagtune` binary: the command-line contract other checks rely on.
        .testTarget(name: "CommandLineTests", dependencies: ["tagtune", "Tuning"]),
        .testTarget(name: "FuzzTargetTests", dependencies: ["FuzzTargets", "Compute"]),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "Server",
                "CLIP",
                "Imaging",
                "Tuning",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                // The recovery test runs the built `tagtune serve` binary.
                "tagtune",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]
        ),
        // Pulls from a fake hub on loopback (Hummingbird), built from the committed tiny checkpoints.
        .testTarget(
            name: "HubTests",
            dependencies: [
                "Hub",
                "tagtune",
                "CLIP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
