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
        // The service's HTTP stack; only the tools build it, never a library user.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
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
                .product(name: "Logging", package: "swift-log"),
                "SearchService",
            ]
        ),
        // `mms serve`: HTTP search over a collection (micro-batched encoders,
        // caches, limits, metrics, the search page).
        .target(
            name: "SearchService",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "MultimodalSearch", package: sdk),
                .product(name: "SearchCore", package: sdk),
                .product(name: "Ranking", package: sdk),
                .product(name: "ImageDecoding", package: sdk),
                .product(name: "ModelStore", package: sdk),
            ]
        ),
        .testTarget(
            name: "SearchServiceTests",
            dependencies: [
                "SearchService",
                .product(name: "MultimodalSearch", package: sdk),
                .product(name: "SearchCore", package: sdk),
                .product(name: "ImageDecoding", package: sdk),
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
                .product(name: "Logging", package: "swift-log"),
                "SearchService",
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
