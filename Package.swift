// swift-tools-version: 6.1
//
// swift-multimodal-search: an embeddable Swift SDK for multimodal (image + text) search.
// See README.md for the products and how they compose.

import PackageDescription

let package = Package(
    name: "swift-multimodal-search",
    platforms: [.macOS(.v15), .iOS(.v18)],
    products: [
        .library(name: "SearchCore", targets: ["SearchCore"]),
        .library(name: "Tensor", targets: ["Tensor"]),
        .library(name: "Evaluation", targets: ["Evaluation"]),
        .library(name: "ANNIndex", targets: ["ANNIndex"]),
        .library(name: "LexicalIndex", targets: ["LexicalIndex"]),
        .library(name: "Ranking", targets: ["Ranking"]),
        .library(name: "Encoders", targets: ["Encoders"]),
        .library(name: "ImageDecoding", targets: ["ImageDecoding"]),
        .library(name: "ModelStore", targets: ["ModelStore"]),
        .library(name: "MultimodalSearch", targets: ["MultimodalSearch"]),
    ],
    targets: [
        // MARK: System libraries

        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"]), .brew(["openblas"])]
        ),

        .systemLibrary(
            name: "CLZ4",
            pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"]), .brew(["lz4"])]
        ),
        // Debian's libstemmer-dev ships no pkg-config file: the module map links `stemmer`.
        .systemLibrary(
            name: "CStemmer",
            providers: [.apt(["libstemmer-dev"]), .brew(["snowball"])]
        ),
        .systemLibrary(
            name: "CTurboJPEG",
            pkgConfig: "libturbojpeg",
            providers: [.apt(["libturbojpeg0-dev"]), .brew(["jpeg-turbo"])]
        ),
        .systemLibrary(
            name: "CPNG",
            pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"]), .brew(["libpng"])]
        ),
        // Text inside pictures (ImageDecoding's TesseractTextExtractor); language data from tesseract-ocr-LANG.
        .systemLibrary(
            name: "CTesseract",
            pkgConfig: "tesseract",
            providers: [.apt(["libtesseract-dev", "tesseract-ocr-eng"]), .brew(["tesseract"])]
        ),

        // MARK: C kernels (run-time dispatched SIMD)

        .target(
            name: "CSearchKernels",
            cSettings: [.define("NDEBUG", .when(configuration: .release))]
        ),

        // MARK: Products

        .target(name: "SearchCore"),
        // Package-internal (not a product): system calls, memory mapping,
        // little-endian coding, atomic replace and durable append, in one place.
        .target(name: "StoragePrimitives", dependencies: ["SearchCore"]),
        .target(
            name: "Tensor",
            dependencies: ["SearchCore", "COpenBLAS", "CSearchKernels"]
        ),
        .target(name: "Evaluation", dependencies: ["SearchCore"]),
        .target(
            name: "ANNIndex",
            dependencies: ["SearchCore", "Tensor", "StoragePrimitives", "CSearchKernels", "CLZ4"]
        ),
        .target(
            name: "LexicalIndex",
            dependencies: ["SearchCore", "StoragePrimitives", "CSearchKernels", "CStemmer"]
        ),
        .target(name: "Ranking", dependencies: ["SearchCore", "Tensor", "StoragePrimitives"]),
        .target(name: "Encoders", dependencies: ["SearchCore", "Tensor", "ImageDecoding", "StoragePrimitives"]),
        .target(name: "ImageDecoding", dependencies: ["SearchCore", "CTurboJPEG", "CPNG", "CTesseract"]),
        .target(name: "ModelStore", dependencies: ["SearchCore"]),
        .target(
            name: "MultimodalSearch",
            dependencies: [
                "SearchCore", "Tensor", "Evaluation", "ANNIndex", "LexicalIndex", "Ranking", "Encoders", "ImageDecoding",
                "ModelStore", "StoragePrimitives",
            ]
        ),

        // MARK: Tests

        .target(
            name: "_TestSupport",
            dependencies: ["SearchCore"],
            path: "Tests/_TestSupport"
        ),
        .testTarget(name: "SearchCoreTests", dependencies: ["SearchCore", "_TestSupport"]),
        .testTarget(name: "StoragePrimitivesTests", dependencies: ["StoragePrimitives", "SearchCore"]),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "CSearchKernels", "_TestSupport"]),
        .testTarget(
            name: "EvaluationTests",
            dependencies: ["Evaluation", "_TestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "ANNIndexTests",
            dependencies: ["ANNIndex", "Evaluation", "_TestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "EncodersTests",
            dependencies: ["Encoders", "_TestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "ImageDecodingTests",
            dependencies: ["ImageDecoding", "_TestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "LexicalIndexTests",
            dependencies: ["LexicalIndex", "_TestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "ModelStoreTests", dependencies: ["ModelStore", "Encoders", "ImageDecoding", "_TestSupport"]),
        .testTarget(
            name: "MultimodalSearchTests",
            dependencies: ["MultimodalSearch", "_TestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "RankingTests",
            dependencies: ["Ranking", "Evaluation", "_TestSupport"],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
