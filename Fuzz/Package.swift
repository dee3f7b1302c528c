// swift-tools-version:6.1
// Coverage-guided fuzz targets for TagTune (libFuzzer through Swift's -sanitize=fuzzer), kept apart
// from the server's package so its build is untouched. Build and run with scripts/fuzz/run.sh,
// which builds into ../.build-fuzz with the sanitizer flags and links with lld (toolset.json).
import PackageDescription

/// One executable per input format: each hands libFuzzer's inputs to its body in the server's
/// package (Sources/FuzzTargets), which the server's test suite also runs.
func fuzzTarget(_ name: String) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzDriver", .product(name: "FuzzTargets", package: "tagtune")])
}

let package = Package(
    name: "tagtune-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "tagtune", path: "..")],
    targets: [
        .target(name: "FuzzDriver"),
        fuzzTarget("fuzz-image"),
        fuzzTarget("fuzz-safetensors"),
        fuzzTarget("fuzz-tokenizer"),
        fuzzTarget("fuzz-dataset"),
        fuzzTarget("fuzz-multipart"),
        fuzzTarget("fuzz-configuration"),
    ],
    swiftLanguageModes: [.v5]
)
