import SearchCore
import StoragePrimitives

/// Accumulates analysed documents, in order, and encodes them as a segment
/// (``LexicalSegmentFormat``).
///
/// - Complexity: adding a document is O(its terms) (one hash lookup per
///   term); encoding is O(postings + positions + T log T) for T terms.
struct LexicalSegmentBuilder {
    /// One term's postings, documents ascending.
    struct Postings {
        var docs: [UInt32] = []
        var tfs: [UInt32] = []
        /// Every document's positions back to back, `tfs[i]` of them for `docs[i]`.
        var positions: [UInt32] = []
    }

    let fieldCount: Int
    private(set) var ids: [VectorID] = []
    /// `lengths[f][d]`: the number of terms field `f` of document `d` has.
    private(set) var lengths: [[UInt32]]
    /// Per field: term bytes → index into `postings`.
    private var terms: [ByteStringTable]
    /// Per field: a word as segmentation yields it → its term's index into
    /// `postings`, or −1 when the analyzer drops it (a word's term depends on
    /// the word alone, so each distinct word is folded and stemmed once).
    private var words: [ByteStringTable]
    private var postings: [Postings] = []
    /// Per posting list: its field and the index of its term in `terms[field]`.
    private var termNames: [(field: Int, key: Int)] = []
    private var termBuffer: [UInt8] = []

    init(fieldCount: Int) {
        self.fieldCount = fieldCount
        lengths = Array(repeating: [], count: fieldCount)
        terms = Array(repeating: ByteStringTable(), count: fieldCount)
        words = Array(repeating: ByteStringTable(), count: fieldCount)
    }

    var documentCount: Int { ids.count }
    var isEmpty: Bool { ids.isEmpty }

    /// Starts a new document; then ``addText(field:_:analyzer:scratch:)`` for its fields.
    mutating func beginDocument(id: VectorID) {
        ids.append(id)
        for f in 0..<fieldCount { lengths[f].append(0) }
    }

    /// The posting list of (field, term), created if new.
    @inline(__always)
    private mutating func list(field: Int, term: UnsafeBufferPointer<UInt8>) -> Int {
        let hash = ByteStringTable.hash(term)
        if let key = terms[field].find(term, hash: hash) { return Int(terms[field].values[key]) }
        let index = postings.count
        let key = terms[field].insert(term, hash: hash, value: Int32(index))
        postings.append(Postings())
        termNames.append((field, key))
        return index
    }

    /// Analyses `text` with `analyzer` into field `field` of the document begun
    /// last (fields in any order, each once): the terms ``TextAnalyzer/analyze(_:_:)`` yields, at its positions.
    mutating func addText(field: Int, _ text: String, analyzer: TextAnalyzer, scratch: inout AnalysisScratch) {
        let doc = UInt32(ids.count - 1)
        var length: UInt32 = 0
        var term: [UInt8] = []
        swap(&term, &termBuffer)
        analyzer.words(text, scratch: &scratch) { word, position in
            let hash = ByteStringTable.hash(word)
            let index: Int32
            if let cached = words[field].find(word, hash: hash) {
                index = words[field].values[cached]
            } else {
                if analyzer.termLocked(of: word, into: &term) {
                    index = Int32(term.withUnsafeBufferPointer { list(field: field, term: $0) })
                } else {
                    index = -1
                }
                words[field].insert(word, hash: hash, value: index)
            }
            guard index >= 0 else { return }
            length += 1
            postings[Int(index)].add(doc: doc, position: UInt32(clamping: position))
        }
        swap(&term, &termBuffer)
        lengths[field][Int(doc)] += length
    }

    /// Adds a whole posting for a term (merging: documents must arrive in increasing order per term).
    mutating func addPosting(field: Int, term: UnsafeRawBufferPointer, doc: UInt32, positions: UnsafeBufferPointer<UInt32>) {
        let index = list(field: field, term: term.assumingMemoryBound(to: UInt8.self))
        postings[index].docs.append(doc)
        postings[index].tfs.append(UInt32(positions.count))
        postings[index].positions.append(contentsOf: positions)
    }

    /// Appends a document's id and lengths without terms (merging adds the postings separately).
    mutating func appendDocument(id: VectorID, lengths documentLengths: [UInt32]) {
        ids.append(id)
        for f in 0..<fieldCount { lengths[f].append(documentLengths[f]) }
    }

    /// The encoded segment, checksum included.
    func encode() -> [UInt8] {
        typealias F = LexicalSegmentFormat
        let order = termNames.indices.sorted { a, b in
            let x = termNames[a], y = termNames[b]
            if x.field != y.field { return x.field < y.field }
            return terms[x.field].key(x.key).lexicographicallyPrecedes(terms[y.field].key(y.key))
        }
        let d = ids.count
        var out: [UInt8] = []
        out.reserveCapacity(F.headerSize + d * (8 + 4 * fieldCount) + postings.count * 64)
        out += F.magic
        LittleEndian.append(F.version, to: &out)
        LittleEndian.append(UInt32(fieldCount), to: &out)
        LittleEndian.append(UInt32(d), to: &out)
        LittleEndian.append(UInt32(order.count), to: &out)
        let offsetsAt = out.count
        out += [UInt8](repeating: 0, count: 40)
        for f in 0..<fieldCount {
            var total: UInt64 = 0
            var withField: UInt32 = 0
            for length in lengths[f] {
                total += UInt64(length)
                if length > 0 { withField += 1 }
            }
            LittleEndian.append(total, to: &out)
            LittleEndian.append(withField, to: &out)
            LittleEndian.append(UInt32(0), to: &out)
        }
        let idsOffset = out.count
        for id in ids { LittleEndian.append(id.rawValue, to: &out) }
        let lengthsOffset = out.count
        for f in 0..<fieldCount {
            for length in lengths[f] { LittleEndian.append(length, to: &out) }
        }
        let termTableOffset = out.count
        out += [UInt8](repeating: 0, count: order.count * F.termEntrySize)
        let termBytesOffset = out.count
        var termOffsets: [Int] = []
        termOffsets.reserveCapacity(order.count)
        for i in order {
            termOffsets.append(out.count - termBytesOffset)
            out += terms[termNames[i].field].key(termNames[i].key)
        }
        let postingsOffset = out.count
        var data: [UInt8] = []
        for (rank, i) in order.enumerated() {
            let p = postings[i]
            let fieldLengths = lengths[termNames[i].field]
            let blockCount = (p.docs.count + F.blockSize - 1) / F.blockSize
            let blocksOffset = out.count
            out += [UInt8](repeating: 0, count: blockCount * F.blockEntrySize)
            data.removeAll(keepingCapacity: true)
            var listMaxTF: UInt32 = 0
            var listMinLength = UInt32.max
            var previous: UInt32 = 0
            var positionCursor = 0
            for block in 0..<blockCount {
                let range = (block * F.blockSize)..<min(p.docs.count, (block + 1) * F.blockSize)
                let docsOffset = data.count
                var maxTF: UInt32 = 0
                var minLength = UInt32.max
                for j in range {
                    appendVarint(p.docs[j] - previous, to: &data)
                    previous = p.docs[j]
                    maxTF = max(maxTF, p.tfs[j])
                    minLength = min(minLength, fieldLengths[Int(p.docs[j])])
                }
                for j in range { appendVarint(p.tfs[j], to: &data) }
                let positionsOffset = data.count
                for j in range {
                    var last: UInt32 = 0
                    for k in 0..<Int(p.tfs[j]) {
                        let position = p.positions[positionCursor + k]
                        appendVarint(position - last, to: &data)
                        last = position
                    }
                    positionCursor += Int(p.tfs[j])
                }
                let entry = blocksOffset + block * F.blockEntrySize
                out.withUnsafeMutableBytes { raw in
                    LittleEndian.store(p.docs[range.upperBound - 1], into: raw, at: entry)
                    LittleEndian.store(UInt32(docsOffset), into: raw, at: entry + 4)
                    LittleEndian.store(UInt32(positionsOffset), into: raw, at: entry + 8)
                    LittleEndian.store(maxTF, into: raw, at: entry + 12)
                    LittleEndian.store(minLength, into: raw, at: entry + 16)
                }
                listMaxTF = max(listMaxTF, maxTF)
                listMinLength = min(listMinLength, minLength)
            }
            out += data
            let entry = termTableOffset + rank * F.termEntrySize
            let term = termNames[i]
            out.withUnsafeMutableBytes { raw in
                LittleEndian.store(UInt16(term.field), into: raw, at: entry)
                LittleEndian.store(UInt16(terms[term.field].key(term.key).count), into: raw, at: entry + 2)
                LittleEndian.store(UInt32(termOffsets[rank]), into: raw, at: entry + 4)
                LittleEndian.store(UInt32(p.docs.count), into: raw, at: entry + 8)
                LittleEndian.store(UInt32(blockCount), into: raw, at: entry + 12)
                LittleEndian.store(UInt64(blocksOffset), into: raw, at: entry + 16)
                LittleEndian.store(listMaxTF, into: raw, at: entry + 24)
                LittleEndian.store(listMinLength, into: raw, at: entry + 28)
                LittleEndian.store(UInt32(data.count), into: raw, at: entry + 32)
            }
        }
        out.withUnsafeMutableBytes { raw in
            LittleEndian.store(UInt64(idsOffset), into: raw, at: offsetsAt)
            LittleEndian.store(UInt64(lengthsOffset), into: raw, at: offsetsAt + 8)
            LittleEndian.store(UInt64(termTableOffset), into: raw, at: offsetsAt + 16)
            LittleEndian.store(UInt64(termBytesOffset), into: raw, at: offsetsAt + 24)
            LittleEndian.store(UInt64(postingsOffset), into: raw, at: offsetsAt + 32)
        }
        let checksum = out.withUnsafeBytes { crc32c($0) }
        LittleEndian.append(checksum, to: &out)
        return out
    }
}

extension LexicalSegmentBuilder.Postings {
    @inline(__always)
    mutating func add(doc: UInt32, position: UInt32) {
        if let last = docs.last, last == doc {
            tfs[tfs.count - 1] += 1
        } else {
            docs.append(doc)
            tfs.append(1)
        }
        positions.append(position)
    }
}
