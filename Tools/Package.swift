// swift-tools-version: 6.1
//
// Command-line tools built on the SDK. Their own package, depending on the SDK
// by path, so the library's dependency graph stays lean.
//
//     swift run -c release --package-path Tools mms --help

import Foundation
import PackageDescription

// A path dependency's identity is its folder's name, which differs between
// clones (CI clones into a folder of its own), so read it from the path.
let sdk = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent.lowercased()

let package = Package(
    name: "swift-multimodal-search-tools",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .executableTarget(
            name: "mms",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "MultimodalSearch", package: sdk),
                .product(name: "SearchCore", package: sdk),
                .product(name: "Encoders", package: sdk),
                .product(name: "Evaluation", package: sdk),
                .product(name: "Ranking", package: sdk),
                .product(name: "ModelStore", package: sdk),
                .product(name: "ImageDecoding", package: sdk),
                .product(name: "ANNIndex", package: sdk),
                .product(name: "Tensor", package: sdk),
            ]
        ),
        .executableTarget(
            name: "crash-test",
            dependencies: [
                .product(name: "ANNIndex", package: sdk),
                .product(name: "LexicalIndex", package: sdk),
                .product(name: "MultimodalSearch", package: sdk),
                .product(name: "Ranking", package: sdk),
                .product(name: "SearchCore", package: sdk),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
