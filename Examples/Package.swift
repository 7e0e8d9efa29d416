// swift-tools-version: 6.1
//
// Small programs a user would copy. Each depends on the SDK by path, exactly as
// an app depends on it by URL and version.
//
//     swift run --package-path Examples quick-start

import Foundation
import PackageDescription

// A path dependency's identity is its folder's name, which differs between
// clones (CI clones into a folder of its own), so read it from the path.
let sdk = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent.lowercased()

let package = Package(
    name: "swift-multimodal-search-examples",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "quick-start",
            dependencies: [
                .product(name: "SearchCore", package: sdk),
                .product(name: "Tensor", package: sdk),
                .product(name: "ANNIndex", package: sdk),
            ],
            path: "Sources/QuickStart"
        ),
        .executableTarget(
            name: "ranking-loop",
            dependencies: [
                .product(name: "SearchCore", package: sdk),
                .product(name: "Encoders", package: sdk),
                .product(name: "Ranking", package: sdk),
                .product(name: "MultimodalSearch", package: sdk),
            ],
            path: "Sources/RankingLoop"
        ),
        .executableTarget(
            name: "durable-catalog",
            dependencies: [
                .product(name: "SearchCore", package: sdk),
                .product(name: "Encoders", package: sdk),
                .product(name: "Ranking", package: sdk),
                .product(name: "MultimodalSearch", package: sdk),
            ],
            path: "Sources/DurableCatalog"
        ),
        .executableTarget(
            name: "hybrid-search",
            dependencies: [
                .product(name: "SearchCore", package: sdk),
                .product(name: "Encoders", package: sdk),
                .product(name: "Evaluation", package: sdk),
                .product(name: "Ranking", package: sdk),
                .product(name: "MultimodalSearch", package: sdk),
            ],
            path: "Sources/HybridSearch"
        ),
        .executableTarget(
            name: "zero-shot-tagging",
            dependencies: [
                .product(name: "SearchCore", package: sdk),
                .product(name: "Encoders", package: sdk),
                .product(name: "Ranking", package: sdk),
                .product(name: "MultimodalSearch", package: sdk),
            ],
            path: "Sources/ZeroShotTagging"
        ),
        .executableTarget(
            name: "persistent-vectors",
            dependencies: [
                .product(name: "SearchCore", package: sdk),
                .product(name: "ANNIndex", package: sdk),
            ],
            path: "Sources/PersistentVectors"
        ),
        .executableTarget(
            name: "keyword-search",
            dependencies: [
                .product(name: "SearchCore", package: sdk),
                .product(name: "LexicalIndex", package: sdk),
            ],
            path: "Sources/KeywordSearch"
        ),
    ],
    swiftLanguageModes: [.v6]
)
