// swift-tools-version: 6.1
//
// libFuzzer targets for the SDK's parsers of untrusted input. Its own package,
// depending on the SDK by path, so the fuzzing flags never touch the library
// build. Build and run with Fuzz/run.sh (one executable target per fuzzer):
//
//     bash Fuzz/run.sh 60     # each fuzzer for 60 seconds

import Foundation
import PackageDescription

// A path dependency's identity is its folder's name, which differs between
// clones (CI clones into a folder of its own), so read it from the path.
let sdk = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent.lowercased()

let package = Package(
    name: "swift-multimodal-search-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "..")
    ],
    targets: [
        .target(name: "FuzzDriver"),
        .executableTarget(
            name: "fuzz-safetensors-header",
            dependencies: ["FuzzDriver", .product(name: "Encoders", package: sdk)]
        ),
        .executableTarget(
            name: "fuzz-image-decoder",
            dependencies: ["FuzzDriver", .product(name: "ImageDecoding", package: sdk)]
        ),
        .executableTarget(name: "fuzz-segment", dependencies: ["FuzzDriver", .product(name: "ANNIndex", package: sdk)]),
        .executableTarget(
            name: "fuzz-lexical-segment", dependencies: ["FuzzDriver", .product(name: "LexicalIndex", package: sdk)]
        ),
        .executableTarget(name: "fuzz-wal", dependencies: ["FuzzDriver", .product(name: "ANNIndex", package: sdk)]),
        .executableTarget(
            name: "fuzz-sentencepiece-model",
            dependencies: ["FuzzDriver", .product(name: "Encoders", package: sdk)]
        ),
    ],
    swiftLanguageModes: [.v6]
)
