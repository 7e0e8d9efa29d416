import SearchCore
import StoragePrimitives

/// A segment's layers above 0, decoded whole by the first search (they hold
/// about 1/M of the rows). `start[row]` is where the row's entry begins in
/// `words`, or −1 when it has no layer above 0; an entry is the row's top
/// layer L, then L lists of `1 + M` words (a count, then the slots), layer 1
/// first. Four bytes a row buy a lookup without a search, which the greedy
/// descent makes at every step.
///
/// `@unchecked Sendable` is sound: everything is written in `init` and only
/// read afterwards; the buffers are freed in `deinit`.
final class UpperLayers: @unchecked Sendable {
    let start: UnsafeMutablePointer<Int32>
    let words: UnsafeMutablePointer<UInt32>
    let rowCount: Int
    let wordCount: Int
    let m: Int

    /// Decodes the coding ``HNSWCore`` writes (see `upperCoding`).
    init(decoding b: UnsafeRawBufferPointer, rowCount: Int, m: Int, path: String) throws(SearchError) {
        let bytes = try LZ4Blocks.decode(b, limit: 64 + rowCount * 16 * (11 + 5 * m))
        let start = UnsafeMutablePointer<Int32>.allocate(capacity: max(rowCount, 1))
        start.initialize(repeating: -1, count: max(rowCount, 1))
        var words: [UInt32] = []
        let list = UnsafeMutablePointer<UInt32>.allocate(capacity: m)
        defer { list.deallocate() }
        do throws(SearchError) {
            try withRawBytes(bytes) { (b) throws(SearchError) in
                var offset = 0
                let count = try GraphCoding.varint(b, &offset, node: -1)
                guard count <= UInt64(rowCount) else {
                    throw SearchError(.corruptData, "\(path): \(count) rows with upper layers among \(rowCount)")
                }
                var row = 0
                for i in 0..<Int(count) {
                    let gap = try GraphCoding.varint(b, &offset, node: row)
                    let level = try GraphCoding.varint(b, &offset, node: row)
                    guard gap < UInt64(rowCount), row + Int(gap) < rowCount, i == 0 || gap > 0, (1...15).contains(level) else {
                        throw SearchError(.corruptData, "\(path): upper layers: row \(row) + \(gap) at layer \(level) is out of order or range")
                    }
                    row += Int(gap)
                    guard words.count < Int(Int32.max) - 16 * (1 + m) else {
                        throw SearchError(.corruptData, "\(path): upper layers too large")
                    }
                    start[row] = Int32(words.count)
                    words.append(UInt32(level))
                    for _ in 0..<Int(level) {
                        let n = try GraphCoding.readList(b, &offset, node: row, nodeCount: rowCount, maxDegree: m, into: list)
                        words.append(UInt32(n))
                        words.append(contentsOf: UnsafeBufferPointer(start: list, count: n))
                        words.append(contentsOf: repeatElement(0, count: m - n))
                    }
                }
                guard offset == b.count else {
                    throw SearchError(.corruptData, "\(path): upper layers: \(b.count - offset) bytes after the last row")
                }
            }
        } catch {
            start.deallocate()
            throw error
        }
        self.start = start
        self.rowCount = rowCount
        self.m = m
        wordCount = words.count
        self.words = .allocate(capacity: max(words.count, 1))
        self.words.initialize(from: words, count: words.count)
    }

    deinit {
        start.deallocate()
        words.deallocate()
    }

    /// The slots of `row` on `layer` ≥ 1 and their count; none when it has no such layer.
    @inline(__always)
    func list(_ row: UInt32, layer: Int) -> (UnsafePointer<UInt32>, Int) {
        let entry = Int(start[Int(row)])
        guard entry >= 0, layer <= Int(words[entry]) else { return (UnsafePointer(words), 0) }
        let list = entry + 1 + (layer - 1) * (1 + m)
        return (UnsafePointer(words + list + 1), Int(words[list]))
    }
}
