// swift-tools-version:6.1
// Coverage-guided fuzz targets for TagTune (libFuzzer through Swift's -sanitize=fuzzer), kept apart
// from the server's package so its build is untouched. Build and run with scripts/fuzz/run.sh,
// which builds into ../.build-fuzz with the sanitizer flags and links with lld (toolset.json).
import PackageDescription

/// One executable per input format: each hands its decoder libFuzzer's inputs.
func fuzzTarget(_ name: String, _ products: [String]) -> Target {
    .executableTarget(name: name,
                      dependencies: ["FuzzDriver"] + products.map { .product(name: $0, package: "tagtune") })
}

let package = Package(
    name: "tagtune-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "tagtune", path: "..")],
    targets: [
        .target(name: "FuzzDriver"),
        fuzzTarget("fuzz-image", ["Imaging"]),
        fuzzTarget("fuzz-safetensors", ["CLIP"]),
        fuzzTarget("fuzz-tokenizer", ["CLIP"]),
        fuzzTarget("fuzz-dataset", ["Tuning"]),
        fuzzTarget("fuzz-multipart", ["Service"]),
        fuzzTarget("fuzz-configuration", ["Service"]),
    ],
    swiftLanguageModes: [.v5]
)
