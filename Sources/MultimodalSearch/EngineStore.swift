import Ranking
import SearchCore
import Synchronization

/// Items and one index per vector field, in memory: what an engine without
/// a ``SearchCollection`` keeps.
final class MemoryCatalog: Sendable {
    let indices: [String: any VectorIndex]
    let keywords: (any KeywordRetriever)?
    let engagement: EngagementStore
    private let items = Mutex<[VectorID: CatalogItem]>([:])

    init(indices: [String: any VectorIndex], keywords: (any KeywordRetriever)?, engagement: EngagementStore) {
        self.indices = indices
        self.keywords = keywords
        self.engagement = engagement
    }

    var count: Int { items.withLock { $0.count } }

    func item(_ id: VectorID) -> CatalogItem? { items.withLock { $0[id] } }

    func add(_ batch: [CatalogItem], vectors: [String: FieldRows], keywords documents: [KeywordDocument]?) throws(SearchError) {
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
        if let keywords {
            let documents = (documents ?? batch.map { KeywordDocument(item: $0) }).filter { !$0.isEmpty }
            if !documents.isEmpty { try keywords.add(documents) }
            let has = Set(documents.map(\.id))
            let dropped = batch.map(\.id).filter { !has.contains($0) && keywords.contains($0) }
            if !dropped.isEmpty { try keywords.remove(dropped) }
        }
        items.withLock { all in
            for item in batch { all[item.id] = item }
        }
    }

    func remove(_ ids: [VectorID]) throws(SearchError) -> Int {
        for index in indices.values { try index.remove(ids) }
        try keywords?.remove(ids)
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

    var keywords: (any KeywordRetriever)? {
        switch self {
        case .memory(let m): m.keywords
        case .collection(let c): c.keywords
        }
    }

    func item(_ id: VectorID) throws(SearchError) -> CatalogItem? {
        switch self {
        case .memory(let m): m.item(id)
        case .collection(let c): try c.item(id)
        }
    }

    func add(_ items: [CatalogItem], vectors: [String: FieldRows], keywords: [KeywordDocument]? = nil) throws(SearchError) {
        switch self {
        case .memory(let m): try m.add(items, vectors: vectors, keywords: keywords)
        case .collection(let c): try c.add(items, vectors: vectors, keywords: keywords)
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
