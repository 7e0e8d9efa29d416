// swift-tools-version: 6.1
//
// The microbenchmark executable, `mms-bench`. Its own package, depending on the
// SDK by path, so the library's dependency graph stays lean.
//
//     swift run -c release --package-path Benchmarks mms-bench kernels --json kernels.json

import PackageDescription

let package = Package(
    name: "swift-multimodal-search-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(name: "CBenchSupport"),
        .executableTarget(
            name: "mms-bench",
            dependencies: [
                "CBenchSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SearchCore", package: "swift-multimodal-search"),
                .product(name: "Tensor", package: "swift-multimodal-search"),
                .product(name: "Evaluation", package: "swift-multimodal-search"),
                .product(name: "ANNIndex", package: "swift-multimodal-search"),
                .product(name: "Ranking", package: "swift-multimodal-search"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
