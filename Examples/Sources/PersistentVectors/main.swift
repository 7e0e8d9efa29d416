// A persistent index: vectors survive the process, deletes reach into what
// was flushed to disk, and filters restrict a search to allowed ids.

import ANNIndex
import Foundation
import SearchCore

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("persistent-vectors-example").path
try? FileManager.default.removeItem(atPath: directory)
defer { try? FileManager.default.removeItem(atPath: directory) }

let dimension = 32
func randomVector() -> [Float] { (0..<dimension).map { _ in Float.random(in: -1...1) } }

// 1. Write: every add is durable when it returns (a write-ahead log); flush()
//    turns the in-memory head into an immutable, checksummed segment file.
var products: [VectorID: [Float]] = [:]
do {
    let index = try PersistentIndex(directory: directory, dimension: dimension, metric: .cosine)
    for id in 0..<500 {
        let v = randomVector()
        products[VectorID(UInt64(id))] = v
        try index.add(v, id: VectorID(UInt64(id)))
    }
    try index.flush()
    try index.add(randomVector(), id: 500)   // stays in the log until the next flush
    print("wrote \(index.count) vectors: \(index.segmentCount) segment, \(index.diskBytes) bytes on disk")
}

// 2. Reopen, as after a restart (or a crash): the segment is mapped, the log replayed,
//    and the recovery report says what was found. A damaged log record is an error
//    naming the file and offset; `recoveryPolicy: .dropDamagedRecords` would drop it
//    (reported, its bytes kept beside the log), `.strict` refuses even a torn tail.
func open(_ directory: String) throws(SearchError) -> PersistentIndex {
    do {
        return try PersistentIndex(directory: directory, dimension: dimension, metric: .cosine)  // .repairTornTail
    } catch {
        guard error.code == .corruptData else { throw error }
        print(error)  // names the file and the offset, and how to open anyway
        return try PersistentIndex(directory: directory, dimension: dimension, metric: .cosine, recoveryPolicy: .dropDamagedRecords)
    }
}
let index = try open(directory)
print(index.recovery)  // records replayed, bytes kept, anything dropped and why
precondition(!index.recovery.droppedAnything && index.count == 501, "everything acknowledged is there")
let query = products[42]!
let found = try index.search(query, k: 1)
precondition(found.first?.id == 42, "a vector finds itself")

// 3. Delete: product 42 is discontinued. The delete is durable and reaches into the segment.
try index.remove([42])
let afterDelete = try index.search(query, k: 1)
precondition(afterDelete.first?.id != 42, "a deleted vector is never returned")

// 4. Filter: only products in stock (even ids, say).
let inStock = AllowList(stride(from: 0, to: 501, by: 2).map { VectorID(UInt64($0)) })
let hits = try index.search(query, k: 5, filter: inStock)
precondition(hits.count == 5 && hits.allSatisfy { $0.id.rawValue % 2 == 0 }, "the filter holds")
print("in stock, nearest to product 42: \(hits.map(\.id))")

// 5. Compact: rewrite the segments without deleted vectors and give the disk back.
let before = index.diskBytes
try index.compact()
print("compacted: \(before) → \(index.diskBytes) bytes, \(index.count) vectors")
