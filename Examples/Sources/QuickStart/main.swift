// Embed-and-search in a few lines: vectors in, nearest neighbours out, with a
// filter. Real apps get their vectors from an encoder; here a seeded generator
// stands in so the program runs anywhere.

import ANNIndex
import SearchCore
import Tensor

let dimension = 64
var generator = SystemRandomNumberGenerator()

// 1. Some "embeddings": 1,000 rows, unit length.
var embeddings = Tensor<Float>(shape: [1_000, dimension]) { buffer in
    for i in buffer.indices { buffer[i] = Float.random(in: -1...1, using: &generator) }
}
embeddings.l2NormalizeRows()

// 2. An exact index under cosine similarity; ids are the host's own keys.
let index = FlatIndex(dimension: dimension, metric: .cosine)
try embeddings.withUnsafeBufferPointer { rows in
    try index.add(rows, ids: (0..<1_000).map { VectorID(UInt64($0)) })
}

// 3. Search with row 42 as the query: it finds itself first.
let query = embeddings.rows(42..<43).scalars
let hits = try index.search(query, k: 5)
for hit in hits {
    print("id \(hit.id)  cosine \(hit.score(.cosine))")
}
precondition(hits.first?.id == 42, "a vector is its own nearest neighbour")

// 4. The same query restricted to even ids (say, items in stock).
let inStock = AllowList(stride(from: 0, to: 1_000, by: 2).map { VectorID(UInt64($0)) })
let filtered = try index.search(query, k: 5, filter: inStock)
precondition(filtered.allSatisfy { $0.id.rawValue % 2 == 0 }, "the filter holds")
print("in stock: \(filtered.map(\.id))")

// 5. Eight-bit codes of the same vectors: a quarter of the memory.
let codes = try embeddings.quantizedInt8()
let restored = codes.dequantized()
let similarity = Kernels.cosine(embeddings.rows(42..<43).scalars, restored.rows(42..<43).scalars)
print("cosine between a vector and its INT8 round trip: \(similarity)")
print("kernels: \(Kernels.active.level), OpenBLAS core: \(BLAS.coreName)")
