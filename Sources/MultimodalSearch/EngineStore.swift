import Ranking
import SearchCore
import Synchronization

/// Items and one index per vector field, in memory: what an engine without
/// a ``SearchCollection`` keeps.
final class MemoryCatalog: Sendable {
    let indices: [String: any VectorIndex]
    let engagement: EngagementStore
    private let items = Mutex<[VectorID: CatalogItem]>([:])

    init(indices: [String: any VectorIndex], engagement: EngagementStore) {
        self.indices = indices
        self.engagement = engagement
    }

    var count: Int { items.withLock { $0.count } }

    func item(_ id: VectorID) -> CatalogItem? { items.withLock { $0[id] } }

    func add(_ batch: [CatalogItem], vectors: [String: FieldRows]) throws(SearchError) {
        for (name, rows) in vectors where !rows.ids.isEmpty {
            guard let index = indices[name] else { throw SearchError(.invalidArgument, "no vector field \"\(name)\"") }
            try index.add(rows.rows, ids: rows.ids)
        }
        // An item written again without a vector in some field stops being found there.
        for (name, index) in indices {
            let has = Set(vectors[name]?.ids ?? [])
            let dropped = batch.map(\.id).filter { !has.contains($0) }
            if !dropped.isEmpty { try index.remove(dropped) }
        }
        items.withLock { all in
            for item in batch { all[item.id] = item }
        }
    }

    func remove(_ ids: [VectorID]) throws(SearchError) -> Int {
        for index in indices.values { try index.remove(ids) }
        return items.withLock { all in ids.reduce(0) { $0 + (all.removeValue(forKey: $1) == nil ? 0 : 1) } }
    }
}

/// Where an engine keeps items and vectors.
enum EngineStore: Sendable {
    case memory(MemoryCatalog)
    case collection(SearchCollection)

    var engagement: EngagementStore {
        switch self {
        case .memory(let m): m.engagement
        case .collection(let c): c.engagement
        }
    }

    var count: Int {
        switch self {
        case .memory(let m): m.count
        case .collection(let c): c.count
        }
    }

    func index(_ field: String) -> (any VectorIndex)? {
        switch self {
        case .memory(let m): m.indices[field]
        case .collection(let c): c.index(field)
        }
    }

    func item(_ id: VectorID) throws(SearchError) -> CatalogItem? {
        switch self {
        case .memory(let m): m.item(id)
        case .collection(let c): try c.item(id)
        }
    }

    func add(_ items: [CatalogItem], vectors: [String: FieldRows]) throws(SearchError) {
        switch self {
        case .memory(let m): try m.add(items, vectors: vectors)
        case .collection(let c): try c.add(items, vectors: vectors)
        }
    }

    func remove(_ ids: [VectorID]) throws(SearchError) -> Int {
        switch self {
        case .memory(let m): try m.remove(ids)
        case .collection(let c): try c.remove(ids)
        }
    }

    func record(_ events: [EngagementEvent]) throws(SearchError) {
        switch self {
        case .memory(let m): m.engagement.record(events)
        case .collection(let c): try c.record(events)
        }
    }
}
