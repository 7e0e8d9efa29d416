import Foundation
import MilvusProto
import SearchCore

extension MilvusIndex {
    /// The `k` nearest vectors allowed by `filter`, closest first (see the
    /// type's documentation for which filters the server evaluates).
    ///
    /// - Throws: ``SearchError/Code/dimensionMismatch``,
    ///   ``SearchError/Code/invalidVector`` for a non-finite (or, under cosine,
    ///   zero) query, ``SearchError/Code/invalidArgument`` for `k` outside
    ///   1…16384, ``SearchError/Code/io`` when the server fails.
    /// - Complexity: one search call (more for a filter the server cannot evaluate).
    public func search<Filter: SearchFilter>(_ query: [Float], k: Int, filter: Filter) async throws(SearchError)
        -> [SearchHit]
    {
        try await search(batch: query, k: k, filter: filter)[0]
    }

    /// The `k` nearest vectors matching `predicate`, closest first; the server
    /// evaluates it.
    public func search(_ query: [Float], k: Int, where predicate: MilvusPredicate) async throws(SearchError) -> [SearchHit] {
        try await search(batch: query, k: k, where: predicate)[0]
    }

    /// The `k` nearest vectors matching `predicate` for each query laid end to end in `queries`.
    public func search(batch queries: [Float], k: Int, where predicate: MilvusPredicate) async throws(SearchError)
        -> [[SearchHit]]
    {
        let nq = try checkQueries(queries, k: k)
        return try await searchCall(queries, nq: nq, k: k, expression: try predicate.expression(fields: collection.fields))
    }

    /// The `k` nearest vectors allowed by `filter` for each of
    /// `queries.count / dimension` queries laid end to end, closest first;
    /// one call carries every query.
    public func search<Filter: SearchFilter>(batch queries: [Float], k: Int, filter: Filter) async throws(SearchError)
        -> [[SearchHit]]
    {
        let nq = try checkQueries(queries, k: k)
        if filter is NoFilter {
            return try await searchCall(queries, nq: nq, k: k, expression: "")
        }
        if let allow = filter as? AllowList {
            if allow.ids.isEmpty { return Array(repeating: [], count: nq) }
            return try await searchCall(
                queries, nq: nq, k: k, expression: "\(MilvusCollection.idField) in \(MilvusPredicate.idList(allow.ids))")
        }
        if let deny = filter as? DenyList {
            let expression =
                deny.ids.isEmpty ? "" : "\(MilvusCollection.idField) not in \(MilvusPredicate.idList(deny.ids))"
            return try await searchCall(queries, nq: nq, k: k, expression: expression)
        }
        // Not expressible on the server: filter the hits it returns, asking for more until k pass.
        var results = [[SearchHit]](repeating: [], count: nq)
        var fetch = min(Self.maxK, max(4 * k, 64))
        var pending = Array(0..<nq)
        while !pending.isEmpty {
            var batch: [Float] = []
            batch.reserveCapacity(pending.count * dimension)
            for q in pending { batch.append(contentsOf: queries[(q * dimension)..<((q + 1) * dimension)]) }
            let found = try await searchCall(batch, nq: pending.count, k: fetch, expression: "")
            var next: [Int] = []
            for (i, q) in pending.enumerated() {
                let allowed = found[i].filter { filter.allows($0.id) }
                results[q] = Array(allowed.prefix(k))
                // More may pass further out, when the server had more to give.
                if allowed.count < k, found[i].count == fetch, fetch < Self.maxK { next.append(q) }
            }
            pending = next
            fetch = min(Self.maxK, fetch * 4)
        }
        return results
    }

    private func checkQueries(_ queries: [Float], k: Int) throws(SearchError) -> Int {
        guard (1...Self.maxK).contains(k) else {
            throw SearchError(.invalidArgument, "k must be in 1…\(Self.maxK) (Milvus's limit); got \(k)")
        }
        guard dimension > 0, queries.count % dimension == 0, !queries.isEmpty else {
            throw SearchError(
                .dimensionMismatch, "\(queries.count) floats are not a whole number of \(dimension)-component queries")
        }
        let nq = queries.count / dimension
        for q in 0..<nq {
            var norm: Float = 0
            for value in queries[(q * dimension)..<((q + 1) * dimension)] {
                guard value.isFinite else {
                    throw SearchError(.invalidVector, "query \(q) has a non-finite component (\(value))")
                }
                norm += value * value
            }
            if metric == .cosine, norm == 0 {
                throw SearchError(.invalidVector, "query \(q) is zero, which has no cosine")
            }
        }
        return nq
    }

    /// One Search call for `nq` queries; hits turned into ``Metric`` distances.
    private func searchCall(_ queries: [Float], nq: Int, k: Int, expression: String) async throws(SearchError)
        -> [[SearchHit]]
    {
        var placeholder = Milvus_Proto_Common_PlaceholderValue()
        placeholder.tag = "$0"
        placeholder.type = .floatVector
        placeholder.values = (0..<nq).map { q in
            // Each vector as little-endian float32 bytes.
            var bytes = [UInt8]()
            bytes.reserveCapacity(dimension * 4)
            for value in queries[(q * dimension)..<((q + 1) * dimension)] {
                withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
            }
            return Data(bytes)
        }
        var group = Milvus_Proto_Common_PlaceholderGroup()
        group.placeholders = [placeholder]

        var request = Milvus_Proto_Milvus_SearchRequest()
        request.collectionName = collection.name
        if let db = configuration.database { request.dbName = db }
        request.dsl = expression
        request.dslType = .boolExprV1
        do {
            request.placeholderGroup = try group.serializedBytes()
        } catch {
            throw SearchError(.invalidArgument, "cannot encode the queries: \(error)", underlying: error)
        }
        request.nq = Int64(nq)
        request.outputFields = []
        request.consistencyLevel = .strong
        request.useDefaultConsistency = false
        request.searchParams = [
            Self.keyValue("anns_field", MilvusCollection.vectorField),
            Self.keyValue("topk", String(k)),
            Self.keyValue("metric_type", collection.metricName),
            Self.keyValue("params", searchParameters.json(for: collection.index, k: k)),
            Self.keyValue("round_decimal", "-1"),
        ]
        let response = try await reloading { () async throws(SearchError) in
            let response = try await connection.call("Search", idempotent: true) { [request] service, metadata, options in
                try await service.search(request, metadata: metadata, options: options)
            }
            try response.status.check("Search", collection: collection.name)
            return response
        }
        let data = response.results
        // A collection with no rows answers without results.
        if data.numQueries == 0 && data.topks.isEmpty { return Array(repeating: [], count: nq) }
        guard data.topks.count == nq else {
            throw SearchError(
                .corruptData, "Milvus answered \(data.topks.count) result lists for \(nq) queries on '\(collection.name)'")
        }
        let ids: [Int64]
        switch data.ids.idField {
        case .intID(let longs)?: ids = longs.data
        case nil: ids = []
        default:
            throw SearchError(.corruptData, "Milvus answered a search on '\(collection.name)' with non-INT64 ids")
        }
        guard ids.count == data.scores.count, ids.count == data.topks.reduce(0, +) else {
            throw SearchError(
                .corruptData,
                "Milvus answered \(ids.count) ids and \(data.scores.count) scores for \(data.topks.reduce(0, +)) hits")
        }
        var results: [[SearchHit]] = []
        results.reserveCapacity(nq)
        var offset = 0
        for count in data.topks {
            let n = Int(count)
            var hits: [SearchHit] = []
            hits.reserveCapacity(n)
            for j in offset..<(offset + n) {
                let score = data.scores[j]
                let distance: Float =
                    switch metric {
                    case .squaredL2: score
                    case .innerProduct, .cosine: 1 - score
                    }
                hits.append(SearchHit(id: VectorID(UInt64(bitPattern: ids[j])), distance: distance))
            }
            offset += n
            // Equal distances in id order, as every index here sorts them.
            hits.sort(by: SearchHit.closerFirst)
            results.append(hits)
        }
        return results
    }

    // MARK: VectorIndex (blocking)

    /// The `k` nearest vectors allowed by `filter` (blocking); see the asynchronous search.
    public func search<Filter: SearchFilter>(_ query: UnsafeBufferPointer<Float>, k: Int, filter: Filter) throws(SearchError)
        -> [SearchHit]
    {
        let copy = Array(query)
        return try BlockingBridge.shared.wait { () async throws(SearchError) in
            try await self.search(batch: copy, k: k, filter: filter)[0]
        }
    }

    /// Searches `queries.count / dimension` queries in one call (blocking) and
    /// writes each one's hits into `hits[q*k ..< q*k + counts[q]]`.
    public func search<Filter: SearchFilter>(
        batch queries: UnsafeBufferPointer<Float>, k: Int, filter: Filter,
        into hits: UnsafeMutableBufferPointer<SearchHit>, counts: UnsafeMutableBufferPointer<Int>
    ) throws(SearchError) {
        let copy = Array(queries)
        let found = try BlockingBridge.shared.wait { () async throws(SearchError) in
            try await self.search(batch: copy, k: k, filter: filter)
        }
        guard counts.count >= found.count, hits.count >= found.count * k else {
            throw SearchError(
                .invalidArgument,
                "output buffers hold \(counts.count) counts and \(hits.count) hits; \(found.count) queries × k = \(k) need \(found.count) and \(found.count * k)"
            )
        }
        for (q, list) in found.enumerated() {
            for (j, hit) in list.enumerated() { hits[q * k + j] = hit }
            counts[q] = list.count
        }
    }
}


