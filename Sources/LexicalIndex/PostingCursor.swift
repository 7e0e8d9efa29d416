import SearchCore
import StoragePrimitives

/// Walks one posting list (a term of a field in one segment, or a phrase's
/// matches gathered in memory) block by block, scoring documents with BM25.
///
/// Each list carries its BM25 constants, so scoring a posting is one
/// multiply-add and a division: `weight·idf · tf / (tf + c0 + c1·length)`
/// with `c0 = k1·(1 − b)` and `c1 = k1·b / avgdl` (Lucene's BM25 with the
/// field weight folded into the idf factor). Per block it knows the largest
/// term frequency and shortest field length, which bound any score in the
/// block from above (the score grows with tf and falls with length): the
/// block-max bounds that let the search skip blocks.
final class PostingCursor {
    /// The clause (query term, phrase or expansion) this list belongs to.
    let clause: Int
    /// The current document, or ``end`` once exhausted.
    private(set) var doc: UInt32 = 0
    static let end = UInt32.max

    let idfWeight: Float
    private let c0: Float
    private let c1: Float
    private let lengths: UnsafeRawPointer
    private let documentCount: Int
    /// An upper bound of every score in the list.
    let maxScore: Float

    private enum Source {
        case segment(base: UnsafeRawPointer, info: TermInfo)
        case memory(docs: [UInt32], tfs: [UInt32])
    }
    private let source: Source
    let blockCount: Int
    /// The block table in the mapped segment (20 bytes per block), or nil for a list in memory.
    private let table: UnsafeRawPointer?
    /// For a list in memory: per block, last document, largest tf, shortest length.
    private let memoryBlocks: [(last: UInt32, maxTF: UInt32, minLength: UInt32)]

    /// The decoded block: documents at 0..<128, term frequencies at 128..<256.
    private let buffer: UnsafeMutablePointer<UInt32>
    private var count = 0
    private var index = 0
    private var block = -1
    /// The block a shallow advance looked at (its bound and last document), at or after `block`.
    private(set) var shallowBlock = 0

    /// Bounds are raised by this factor so float rounding in a sum of
    /// bounds never falls below a score summed in another order.
    static let boundSlack: Float = 1.0001

    private init(
        clause: Int, source: Source, table: UnsafeRawPointer?, memoryBlocks: [(last: UInt32, maxTF: UInt32, minLength: UInt32)],
        blockCount: Int, listMaxTF: UInt32, listMinLength: UInt32,
        idfWeight: Float, c0: Float, c1: Float, lengths: UnsafeRawPointer, documentCount: Int
    ) {
        self.clause = clause
        self.source = source
        self.table = table
        self.memoryBlocks = memoryBlocks
        self.blockCount = blockCount
        self.idfWeight = idfWeight
        self.c0 = c0
        self.c1 = c1
        self.lengths = lengths
        self.documentCount = documentCount
        let tf = Float(listMaxTF)
        maxScore = blockCount == 0 ? 0 : idfWeight * tf / (tf + c0 + c1 * Float(listMinLength)) * Self.boundSlack
        buffer = .allocate(capacity: 2 * LexicalSegmentFormat.blockSize)
        if blockCount == 0 {
            doc = Self.end
        } else {
            decode(0)
        }
    }

    deinit {
        buffer.deallocate()
    }

    /// A cursor over term `info` of `segment`.
    convenience init(clause: Int, segment: LexicalSegment, info: TermInfo, idfWeight: Float, c0: Float, c1: Float) {
        let base = segment.bytes.baseAddress!
        self.init(
            clause: clause, source: .segment(base: base, info: info), table: base + info.blocksOffset, memoryBlocks: [],
            blockCount: info.blockCount, listMaxTF: info.maxTF, listMinLength: info.minLength,
            idfWeight: idfWeight, c0: c0, c1: c1, lengths: segment.lengthsBase(field: info.field),
            documentCount: segment.documentCount)
    }

    /// A cursor over postings gathered in memory (a phrase's matches), documents ascending.
    convenience init(
        clause: Int, docs: [UInt32], tfs: [UInt32], segment: LexicalSegment, field: Int, idfWeight: Float, c0: Float, c1: Float
    ) {
        let size = LexicalSegmentFormat.blockSize
        var blocks: [(last: UInt32, maxTF: UInt32, minLength: UInt32)] = []
        var start = 0
        while start < docs.count {
            let range = start..<min(docs.count, start + size)
            blocks.append(
                (docs[range.upperBound - 1], tfs[range].max()!, range.map { segment.length(field: field, doc: Int(docs[$0])) }.min()!))
            start += size
        }
        self.init(
            clause: clause, source: .memory(docs: docs, tfs: tfs), table: nil, memoryBlocks: blocks, blockCount: blocks.count,
            listMaxTF: blocks.map(\.maxTF).max() ?? 0, listMinLength: blocks.map(\.minLength).min() ?? 0,
            idfWeight: idfWeight, c0: c0, c1: c1, lengths: segment.lengthsBase(field: field),
            documentCount: segment.documentCount)
    }

    @inline(__always)
    private func read(_ b: Int, _ field: Int) -> UInt32 {
        readU32(table!, b * LexicalSegmentFormat.blockEntrySize + field)
    }

    /// The last document of block `b`.
    @inline(__always)
    private func blockLast(_ b: Int) -> UInt32 {
        table == nil ? memoryBlocks[b].last : read(b, 0)
    }

    /// An upper bound of every score in block `b`.
    @inline(__always)
    private func blockBound(_ b: Int) -> Float {
        let tf: Float, length: Float
        if table == nil {
            tf = Float(memoryBlocks[b].maxTF)
            length = Float(memoryBlocks[b].minLength)
        } else {
            tf = Float(read(b, 12))
            length = Float(read(b, 16))
        }
        return idfWeight * tf / (tf + c0 + c1 * length) * Self.boundSlack
    }

    /// How many documents the list holds.
    var postingCount: Int {
        switch source {
        case .segment(_, let info): info.documentFrequency
        case .memory(let docs, _): docs.count
        }
    }

    /// The current document's term frequency.
    var tf: UInt32 { buffer[LexicalSegmentFormat.blockSize + index] }

    /// The current document's BM25 contribution.
    @inline(__always)
    var score: Float {
        let tf = Float(buffer[LexicalSegmentFormat.blockSize + index])
        let length = Float(readU32(lengths, Int(doc) * 4))
        return idfWeight * tf / (tf + c0 + c1 * length)
    }

    /// Decodes block `b` and stands on its first document (or ends the list on damage).
    private func decode(_ b: Int) {
        block = b
        shallowBlock = max(shallowBlock, b)
        index = 0
        switch source {
        case .memory(let all, let allTFs):
            let start = b * LexicalSegmentFormat.blockSize
            count = min(LexicalSegmentFormat.blockSize, all.count - start)
            for j in 0..<count {
                buffer[j] = all[start + j]
                buffer[LexicalSegmentFormat.blockSize + j] = allTFs[start + j]
            }
        case .segment(let base, let info):
            let size = LexicalSegmentFormat.blockSize
            count = min(size, info.documentFrequency - b * size)
            let entry = info.blocksOffset + b * LexicalSegmentFormat.blockEntrySize
            let docsOffset = Int(readU32(base, entry + 4))
            let end = info.dataOffset + info.dataLength
            var at = info.dataOffset + docsOffset
            var previous: UInt32 = b == 0 ? 0 : blockLast(b - 1)
            var ok = true
            decoding: do {
                for j in 0..<count {
                    guard let gap = readVarint(base, &at, end: end) else { ok = false; break decoding }
                    let (next, overflow) = previous.addingReportingOverflow(gap)
                    // Gaps are positive after the first posting; every document is inside the segment.
                    guard !overflow, next < documentCount, j == 0 && b == 0 || gap > 0 else { ok = false; break decoding }
                    buffer[j] = next
                    previous = next
                }
                for j in 0..<count {
                    guard let tf = readVarint(base, &at, end: end), tf > 0 else { ok = false; break decoding }
                    buffer[LexicalSegmentFormat.blockSize + j] = tf
                }
            }
            if !ok {
                doc = Self.end
                count = 0
                return
            }
        }
        doc = count > 0 ? buffer[0] : Self.end
    }

    /// Adds the BM25 contribution of every remaining posting to `scores`
    /// (indexed by document), block by block in one tight loop, and ends the
    /// list. Each contribution is computed exactly as ``score`` computes it.
    /// - Returns: the first and last document scored (`(end, 0)` for none).
    func scoreRemaining(into scores: UnsafeMutablePointer<Float>) -> (first: UInt32, last: UInt32) {
        guard doc != Self.end else { return (Self.end, 0) }
        let first = doc
        var last = doc
        let tfs = buffer + LexicalSegmentFormat.blockSize
        let lengths = lengths
        let idfWeight = idfWeight, c0 = c0, c1 = c1
        while true {
            for j in index..<count {
                let d = buffer[j]
                let tf = Float(tfs[j])
                let length = Float(readU32(lengths, Int(d) * 4))
                scores[Int(d)] += idfWeight * tf / (tf + c0 + c1 * length)
            }
            if count > 0 { last = buffer[count - 1] }
            guard block + 1 < blockCount else { break }
            decode(block + 1)
            if doc == Self.end { break }
        }
        index = count
        doc = Self.end
        return (first, last)
    }

    /// Moves to the next document.
    @inline(__always)
    func next() {
        index += 1
        if index < count {
            doc = buffer[index]
        } else if block + 1 < blockCount {
            decode(block + 1)
        } else {
            doc = Self.end
        }
    }

    /// Moves to the first document at or after `target`.
    func advance(to target: UInt32) {
        guard doc < target else { return }
        if target > blockLast(block) {
            var b = max(block + 1, shallowBlock)
            while b < blockCount, blockLast(b) < target { b += 1 }
            guard b < blockCount else {
                doc = Self.end
                return
            }
            decode(b)
        }
        while index < count, buffer[index] < target { index += 1 }
        if index < count {
            doc = buffer[index]
        } else {
            next()  // damage made the block shorter than its table said
        }
    }

    /// Finds the block that would hold `target` without decoding it.
    /// - Returns: that block's score bound and last document; (0, end) past the list.
    @inline(__always)
    func shallowAdvance(to target: UInt32) -> (bound: Float, last: UInt32) {
        var b = max(block, shallowBlock)
        while b < blockCount, blockLast(b) < target { b += 1 }
        shallowBlock = b
        guard b < blockCount else { return (0, Self.end) }
        return (blockBound(b), blockLast(b))
    }

    /// The positions of the current document (segment lists only), appended to `out`.
    func positions(into out: inout [UInt32]) {
        guard case .segment(let base, let info) = source, doc != Self.end else { return }
        let entry = info.blocksOffset + block * LexicalSegmentFormat.blockEntrySize
        let positionsOffset = Int(readU32(base, entry + 8))
        let end = info.dataOffset + info.dataLength
        var at = info.dataOffset + positionsOffset
        // Skip the positions of the documents before this one in the block.
        for j in 0..<index {
            for _ in 0..<buffer[LexicalSegmentFormat.blockSize + j] {
                guard readVarint(base, &at, end: end) != nil else { return }
            }
        }
        var position: UInt32 = 0
        for _ in 0..<buffer[LexicalSegmentFormat.blockSize + index] {
            guard let gap = readVarint(base, &at, end: end) else { return }
            position &+= gap
            out.append(position)
        }
    }
}
