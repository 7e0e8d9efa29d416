import CSearchKernels
import SearchCore
import Tensor

/// A graph one k-NN search can run on: the in-memory ``HNSWCore`` or a
/// segment's ``MappedGraph``. Each gives its layout, entry point, rows and
/// float32 originals; ``KNNGraph/search(_:k:ef:filter:accept:liveCount:into:scratch:)``
/// is the one K-NN-SEARCH both run.
protocol KNNGraph {
    associatedtype Codec: VectorCodec
    associatedtype Layout: GraphLayout where Layout.Codec == Codec

    var codec: Codec { get }
    var kernels: Kernels { get }
    var dimension: Int { get }
    var metric: Metric { get }
    /// Slots (rows), live or deleted.
    var slotCount: Int { get }
    /// The entry point and its top layer, or `nil` for an empty graph.
    var searchEntry: (slot: UInt32, level: Int)? { get }
    /// Float32 vectors kept for re-scoring, `dimension` per slot, or `nil`.
    var float32Rows: UnsafePointer<Float>? { get }
    /// Candidates per requested hit re-scored exactly.
    var rescoringOversampling: Int { get }
    /// Below this estimated fraction of allowed live slots, scan them exactly.
    var exactScanBelowSelectivity: Double { get }
    /// The identifier of `slot`.
    func identifier(_ slot: UInt32) -> VectorID
    /// How many slots `filter` allows when the filter knows it (an upper
    /// bound), or `nil` to estimate it by sampling.
    func allowedCount<Filter: SearchFilter>(_ filter: Filter) -> Int?
    /// Calls `body` for every slot `filter` may allow when that is cheaper
    /// than checking every slot (a short allow list through an id map);
    /// returns false, calling nothing, when it is not.
    func forEachNamedSlot<Filter: SearchFilter>(_ filter: Filter, _ body: (UInt32) -> Void) -> Bool
}

extension KNNGraph {
    func allowedCount<Filter: SearchFilter>(_ filter: Filter) -> Int? { nil }
    func forEachNamedSlot<Filter: SearchFilter>(_ filter: Filter, _ body: (UInt32) -> Void) -> Bool { false }

    /// K-NN-SEARCH (Algorithm 5 of Malkov & Yashunin) for one float query
    /// (normalised under cosine) over `layout`: greedy descent, SEARCH-LAYER
    /// on layer 0 with `accept` deciding which slots may be hits, an exact
    /// scan instead when the filter is very selective or the traversal found
    /// fewer than `k`, then re-scoring and ties by id. Writes at most `k`
    /// hits closest first into `out` and returns how many.
    ///
    /// `ef` must already be at least 1; it is raised to `k`.
    @inline(__always)
    func search<Filter: SearchFilter, Accept: NodeAcceptor>(
        _ vector: UnsafePointer<Float>, layout: Layout, k: Int, ef requestedEF: Int, filter: Filter, accept: Accept,
        liveCount: Int, into out: UnsafeMutablePointer<SearchHit>, scratch: SearchScratch
    ) -> Int {
        guard let top = searchEntry, liveCount > 0 else { return 0 }
        let ef = max(requestedEF, k)
        if Filter.self != NoFilter.self
            && estimatedSelectivity(filter, accept: accept, liveCount: liveCount) < exactScanBelowSelectivity
        {
            return exactScan(vector, layout: layout, k: k, filter: filter, accept: accept, into: out, scratch: scratch)
        }
        let query = codec.prepare(query: vector, scratch: scratch.queryBuffer)
        var current = top.slot
        var distance = codec.distance(query, layout.code(current))
        for layer in stride(from: top.level, to: 0, by: -1) {
            (current, distance) = LayerSearch.greedy(
                layout, query, from: current, distance: distance, layer: layer, scratch: scratch)
        }
        LayerSearch.searchLayer(
            layout, query, entry: current, entryDistance: distance, ef: ef, layer: 0, nodeCount: slotCount,
            accept: accept, scratch: scratch)
        if scratch.results.count < k && scratch.results.count < liveCount {
            // The traversal found fewer than k allowed vectors; only a scan can say whether more exist.
            return exactScan(vector, layout: layout, k: k, filter: filter, accept: accept, into: out, scratch: scratch)
        }
        return finish(vector, layout: layout, k: k, scratch: scratch, into: out)
    }

    /// Turns the results heap into hits: the closest `k`; or with float32
    /// originals the closest `k·oversampling` re-scored exactly and cut to
    /// `k`; or, without originals under a codec that
    /// ``VectorCodec/refinesFromCode`` (int8), those re-ranked from the codes
    /// with the query unquantised.
    @inline(__always)
    private func finish(
        _ vector: UnsafePointer<Float>, layout: Layout, k: Int, scratch: SearchScratch,
        into out: UnsafeMutablePointer<SearchHit>
    ) -> Int {
        let rows = float32Rows
        let refine = rows == nil && codec.refinesFromCode
        let keep = rows != nil || refine ? min(scratch.results.count, k * rescoringOversampling) : k
        while scratch.results.count > keep { scratch.results.pop() }
        let found = scratch.results.elements
        if let rows {
            for j in found.indices { mms_prefetch(rows + Int(found[j].slot) * dimension, min(dimension * 4, 1024)) }
            for j in found.indices { found[j].distance = floatDistance(vector, rows + Int(found[j].slot) * dimension) }
        } else if refine {
            // The int8-only mode: no originals, so re-rank from the codes with the query unquantised.
            let decoded = scratch.pivotBuffer.assumingMemoryBound(to: Float.self)
            for j in found.indices {
                found[j].distance = codec.refinedDistance(vector, layout.code(found[j].slot), scratch: decoded)
            }
        }
        return hits(found, k: k, into: out)
    }

    /// The float32 distance of the metric from a normalised query to `x`.
    @inline(__always)
    func floatDistance(_ query: UnsafePointer<Float>, _ x: UnsafePointer<Float>) -> Float {
        metric == .squaredL2 ? kernels.squaredL2(query, x, count: dimension) : 1 - kernels.dot(query, x, count: dimension)
    }

    /// The closest `k` of `found` as hits in `out`, ties by id as
    /// ``SearchHit/closerFirst`` orders them; returns how many.
    private func hits(_ found: UnsafeMutableBufferPointer<Neighbor>, k: Int, into out: UnsafeMutablePointer<SearchHit>) -> Int {
        found.sortClosestFirst()
        let n = min(k, found.count)
        for j in 0..<n { out[j] = SearchHit(id: identifier(found[j].slot), distance: found[j].distance) }
        // Insertion sort: the distances are already in order, only runs of equal ones move.
        var i = 1
        while i < n {
            var j = i
            let hit = out[i]
            while j > 0 && SearchHit.closerFirst(hit, out[j - 1]) {
                out[j] = out[j - 1]
                j -= 1
            }
            out[j] = hit
            i += 1
        }
        return n
    }

    /// The exact answer over the accepted slots (float32 distances where
    /// kept, else the codec's refined or plain distance).
    func exactScan<Filter: SearchFilter, Accept: NodeAcceptor>(
        _ vector: UnsafePointer<Float>, layout: Layout, k: Int, filter: Filter, accept: Accept,
        into out: UnsafeMutablePointer<SearchHit>, scratch: SearchScratch
    ) -> Int {
        let query = codec.prepare(query: vector, scratch: scratch.queryBuffer)
        let rows = float32Rows
        let refine = rows == nil && codec.refinesFromCode
        let decoded = scratch.pivotBuffer.assumingMemoryBound(to: Float.self)
        var results = scratch.results
        defer { scratch.results = results }
        results.removeAll()
        @inline(__always) func offer(_ slot: UInt32) {
            let d =
                if let rows { floatDistance(vector, rows + Int(slot) * dimension) }
                else if refine { codec.refinedDistance(vector, layout.code(slot), scratch: decoded) }
                else { codec.distance(query, layout.code(slot)) }
            if results.count < k {
                results.push(Neighbor(distance: d, slot: slot))
            } else if d < results.top.distance {
                results.replaceTop(Neighbor(distance: d, slot: slot))
            }
        }
        let named = forEachNamedSlot(filter) { slot in
            if accept.accepts(slot) { offer(slot) }
        }
        if !named {
            for s in 0..<UInt32(slotCount) where accept.accepts(s) { offer(s) }
        }
        return hits(results.elements, k: k, into: out)
    }

    /// The fraction of live slots `filter` allows: from the filter's own
    /// count where ``allowedCount(_:)`` gives one, else from 128 evenly
    /// spaced slots.
    func estimatedSelectivity<Filter: SearchFilter, Accept: NodeAcceptor>(
        _ filter: Filter, accept: Accept, liveCount: Int
    ) -> Double {
        if let n = allowedCount(filter) { return Double(n) / Double(max(liveCount, 1)) }
        let samples = min(128, slotCount)
        var live = 0
        var allowed = 0
        for i in 0..<samples {
            let s = UInt32(i * slotCount / samples)
            guard accept.isLive(s) else { continue }
            live += 1
            if accept.accepts(s) { allowed += 1 }
        }
        return live == 0 ? 0 : Double(allowed) / Double(live)
    }
}

/// The one check of a search's `k` and `ef`, for every index that takes them.
enum SearchBounds {
    /// The largest `ef` a search accepts.
    static let maxEF = 1 << 16

    /// Throws ``SearchError/Code/invalidArgument`` unless `k ≥ 1` and `1 ≤ ef ≤ 65536`.
    static func check(k: Int, ef: Int?) throws(SearchError) {
        guard k > 0 else { throw SearchError(.invalidArgument, "k must be at least 1; got \(k)") }
        if let ef, !(1...maxEF).contains(ef) {
            throw SearchError(.invalidArgument, "ef must be in 1...\(maxEF); got \(ef)")
        }
    }
}

/// Code run once a filter's concrete type is known: the filter dispatch
/// hands it the filter as its own type, so what it calls is specialised.
protocol FilterBody {
    associatedtype Result
    func run<Filter: SearchFilter>(_ filter: Filter) -> Result
}

extension FilterBody {
    /// Turns `filter` into a concrete type and runs this body with it: only
    /// with every type concrete does the compiler specialise the search loop
    /// (the codec's distance and the filter's check inlined, no witness call
    /// per candidate). The filters of SearchCore and this module are matched
    /// by type; any other filter is called through one closure per visited node.
    @inline(__always)
    func dispatch<Filter: SearchFilter>(_ filter: Filter) -> Result {
        if let f = filter as? NoFilter { return run(f) }
        if let f = filter as? AllowList { return run(f) }
        if let f = filter as? IDBitSet { return run(f) }
        if let f = filter as? DenyList { return run(f) }
        if let f = filter as? PredicateFilter { return run(f) }
        return run(ForeignFilter(filter))
    }
}

/// A filter of a type this module does not know, behind one closure, so the
/// rest of the search is still specialised for the codec.
struct ForeignFilter: SearchFilter {
    let check: @Sendable (VectorID) -> Bool
    init<Filter: SearchFilter>(_ filter: Filter) { check = { filter.allows($0) } }
    @inline(__always) func allows(_ id: VectorID) -> Bool { check(id) }
}
