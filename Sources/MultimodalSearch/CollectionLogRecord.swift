import Foundation
import Ranking
import SearchCore
import StoragePrimitives

/// One record of a collection's log: a batch of items written, removed, or
/// engagement recorded. One record holds one whole call, so a call is
/// replayed entirely or not at all.
///
/// Payload layout (little-endian):
///
/// | op | then |
/// | --- | --- |
/// | 1 put | count u32; per item: id u64, vector-field bits u8, the item (``ItemCoding``) |
/// | 2 remove | count u32; count × id u64 |
/// | 3 engagement | count u32; per event: item u64, user u64, has-user u8, kind u8 (``Ranking/EngagementKind`` raw value), time f64 (seconds since 1970) |
enum CollectionLogRecord {
    case put([StoredItem])
    case remove([VectorID])
    case engagement([EngagementEvent])

    func encoded() -> [UInt8] {
        var w = ByteWriter()
        switch self {
        case .put(let items):
            w.append(UInt8(1))
            w.append(UInt32(items.count))
            for stored in items {
                w.append(stored.item.id.rawValue)
                w.append(stored.vectorFields)
                ItemCoding.encode(stored.item, into: &w)
            }
        case .remove(let ids):
            w.append(UInt8(2))
            w.append(UInt32(ids.count))
            for id in ids { w.append(id.rawValue) }
        case .engagement(let events):
            w.append(UInt8(3))
            w.append(UInt32(events.count))
            for e in events {
                w.append(e.item.rawValue)
                w.append(e.user?.rawValue ?? 0)
                w.append(UInt8(e.user == nil ? 0 : 1))
                w.append(e.kind.rawValue)
                w.append(e.time.timeIntervalSince1970)
            }
        }
        return w.bytes
    }

    static func decode(_ payload: [UInt8], source: String) throws(SearchError) -> CollectionLogRecord {
        try withRawBytes(payload) { raw throws(SearchError) -> CollectionLogRecord in
            var r = ByteReader(raw, source: source)
            let op = try r.read(UInt8.self)
            let count = Int(try r.read(UInt32.self))
            guard count <= raw.count / 8 else {
                throw SearchError(.corruptData, "\(source): a record of \(raw.count) bytes cannot hold \(count) entries")
            }
            let record: CollectionLogRecord
            switch op {
            case 1:
                var items: [StoredItem] = []
                items.reserveCapacity(count)
                for _ in 0..<count {
                    let id = VectorID(try r.read(UInt64.self))
                    let fields = try r.read(UInt8.self)
                    items.append(StoredItem(item: try ItemCoding.decode(id: id, from: &r), vectorFields: fields))
                }
                record = .put(items)
            case 2:
                var ids: [VectorID] = []
                ids.reserveCapacity(count)
                for _ in 0..<count { ids.append(VectorID(try r.read(UInt64.self))) }
                record = .remove(ids)
            case 3:
                var events: [EngagementEvent] = []
                events.reserveCapacity(count)
                for _ in 0..<count {
                    let item = VectorID(try r.read(UInt64.self))
                    let user = try r.read(UInt64.self)
                    let hasUser = try r.read(UInt8.self)
                    let kindValue = try r.read(UInt8.self)
                    let time = try r.readDouble()
                    guard let kind = EngagementKind(rawValue: kindValue), hasUser <= 1, time.isFinite else {
                        throw SearchError(.corruptData, "\(source): an engagement event has kind \(kindValue), user flag \(hasUser), time \(time)")
                    }
                    events.append(
                        EngagementEvent(
                            item: item, user: hasUser == 1 ? UserID(user) : nil, kind: kind,
                            time: Date(timeIntervalSince1970: time)))
                }
                record = .engagement(events)
            default:
                throw SearchError(.corruptData, "\(source): unknown operation \(op)")
            }
            guard r.isAtEnd else {
                throw SearchError(.corruptData, "\(source): \(raw.count - r.offset) bytes follow the record's last entry")
            }
            return record
        }
    }
}
