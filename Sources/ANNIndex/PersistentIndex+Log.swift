import SearchCore
import StoragePrimitives

/// One operation in a persistent index's write-ahead log.
///
/// Payload layout (little-endian): `op` u8 (1 add, 2 remove), `count` u32,
/// `count` × u64 identifiers, then for an add `count × dimension` float32
/// components, row by row. One record holds one whole batch, so a batch is
/// replayed entirely or not at all.
enum LogOperation: Equatable {
    case add(ids: [VectorID], vectors: [Float])
    case remove(ids: [VectorID])

    func encoded() -> [UInt8] {
        var out: [UInt8] = []
        switch self {
        case .add(let ids, let vectors):
            out.reserveCapacity(5 + ids.count * 8 + vectors.count * 4)
            out.append(1)
            LittleEndian.append(UInt32(ids.count), to: &out)
            for id in ids { LittleEndian.append(id.rawValue, to: &out) }
            for v in vectors { LittleEndian.append(v.bitPattern, to: &out) }
        case .remove(let ids):
            out.append(2)
            LittleEndian.append(UInt32(ids.count), to: &out)
            for id in ids { LittleEndian.append(id.rawValue, to: &out) }
        }
        return out
    }

    static func decode(_ payload: [UInt8], dimension: Int, log: String, record: Int) throws(SearchError) -> LogOperation {
        func corrupt(_ what: String) -> SearchError {
            SearchError(.corruptData, "\(log), record \(record): \(what)")
        }
        guard payload.count >= 5 else { throw corrupt("a record of \(payload.count) bytes is too short") }
        return try withRawBytes(payload) { (b) throws(SearchError) -> LogOperation in
            let count = Int(LittleEndian.read(UInt32.self, b, at: 1))
            let idBytes = count * 8
            var ids: [VectorID] = []
            ids.reserveCapacity(count)
            switch b[0] {
            case 1:
                guard b.count == 5 + idBytes + count * dimension * 4 else {
                    throw corrupt("an add of \(count) vectors of \(dimension) components needs \(5 + idBytes + count * dimension * 4) bytes, not \(b.count)")
                }
                for i in 0..<count { ids.append(VectorID(LittleEndian.read(UInt64.self, b, at: 5 + 8 * i))) }
                var vectors = [Float](repeating: 0, count: count * dimension)
                for i in 0..<vectors.count {
                    vectors[i] = Float(bitPattern: LittleEndian.read(UInt32.self, b, at: 5 + idBytes + 4 * i))
                }
                return .add(ids: ids, vectors: vectors)
            case 2:
                guard b.count == 5 + idBytes else { throw corrupt("a removal of \(count) ids needs \(5 + idBytes) bytes, not \(b.count)") }
                for i in 0..<count { ids.append(VectorID(LittleEndian.read(UInt64.self, b, at: 5 + 8 * i))) }
                return .remove(ids: ids)
            default:
                throw corrupt("unknown operation \(b[0])")
            }
        }
    }
}
