// swift-tools-version: 6.1
//
// The microbenchmark executable, `mms-bench`. Its own package, depending on the
// SDK by path, so the library's dependency graph stays lean.
//
//     swift run -c release --package-path Benchmarks mms-bench kernels --json kernels.json

import Foundation
import PackageDescription

// A path dependency's identity is its folder's name, which differs between
// clones (CI clones into a folder of its own), so read it from the path.
let sdk = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent.lowercased()

let package = Package(
    name: "swift-multimodal-search-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(name: "CBenchSupport"),
        // Encoders for the seeded JPEG and PNG pictures `mms-bench image-ingest` decodes.
        .systemLibrary(
            name: "CBenchTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"]), .brew(["jpeg-turbo"])]),
        .systemLibrary(name: "CBenchPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .executableTarget(
            name: "mms-bench",
            dependencies: [
                "CBenchSupport",
                "CBenchTurboJPEG",
                "CBenchPNG",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SearchCore", package: sdk),
                .product(name: "Tensor", package: sdk),
                .product(name: "Evaluation", package: sdk),
                .product(name: "ANNIndex", package: sdk),
                .product(name: "LexicalIndex", package: sdk),
                .product(name: "Ranking", package: sdk),
                .product(name: "Encoders", package: sdk),
                .product(name: "MultimodalSearch", package: sdk),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
