import Foundation
import SearchCore

extension SearchEngine {
    /// Encodes and indexes items; re-ingesting an identifier replaces it.
    ///
    /// Items go through in batches of ``Configuration/batchSize``: a batch's
    /// pictures are read, decoded and preprocessed on every core into one
    /// buffer and embedded together (forward passes as the image encoder's
    /// batch policy cuts them), its captions in one text-encoder call; both through the content-hash cache. An item
    /// whose picture cannot be read or decoded is skipped (listed in the
    /// report with the reason), as is one with neither caption nor picture;
    /// the rest are indexed. With a keyword index, each item's caption,
    /// tags and picture file name are indexed as keywords, and with
    /// an ``Configuration/imageTextExtractor`` the text found inside its
    /// picture too (``KeywordField/pictureText``). With a collection, what
    /// the report lists as indexed is on disk when this returns.
    ///
    /// - Throws: ``SearchCore/SearchError`` when an encoder or the index
    ///   fails for the batch as a whole (nothing of that batch is indexed),
    ///   or an identifier appears twice.
    /// - Complexity: one forward pass per batch per encoder, then
    ///   O(items · log n) distance evaluations to index.
    public func ingest(_ items: [CatalogItem]) throws(SearchError) -> IngestReport {
        try checkDistinct(items)
        var report = IngestReport()
        var start = 0
        while start < items.count {
            let end = min(start + configuration.batchSize, items.count)
            try ingestBatch(Array(items[start..<end]), report: &report)
            start = end
        }
        return report
    }

    /// ``ingest(_:)`` that checks for cancellation between batches.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/cancelled`` when the task is
    ///   cancelled; the batches before it are indexed (and listed in the
    ///   error's message), the rest are not.
    public func ingest(_ items: [CatalogItem]) async throws(SearchError) -> IngestReport {
        try checkDistinct(items)
        var report = IngestReport()
        var start = 0
        while start < items.count {
            if Task.isCancelled {
                throw SearchError(
                    .cancelled, "ingestion was cancelled after \(report.indexed.count) of \(items.count) items were indexed")
            }
            let end = min(start + configuration.batchSize, items.count)
            try ingestBatch(Array(items[start..<end]), report: &report)
            start = end
            await Task.yield()
        }
        return report
    }

    private func checkDistinct(_ items: [CatalogItem]) throws(SearchError) {
        var seen = Set<VectorID>()
        for item in items where !seen.insert(item.id).inserted {
            throw SearchError(.invalidArgument, "item \(item.id) appears twice in one ingest")
        }
    }

    private func ingestBatch(_ items: [CatalogItem], report: inout IngestReport) throws(SearchError) {
        let batch = try ingestion.embed(items, report: &report)
        guard !batch.accepted.isEmpty else { return }
        var documents: [KeywordDocument]?
        if store.keywords != nil, let texts = ingestion.pictureTexts(batch.accepted, report: &report) {
            documents = batch.accepted.map { KeywordDocument(item: $0, pictureText: texts[$0.id]) }
        }
        try store.add(batch.accepted, vectors: batch.vectors, keywords: documents)
        report.indexed += batch.accepted.map(\.id)
    }

    /// Adds an item whose embeddings were computed before (by ``ingest(_:)``,
    /// whose report carries them, or another process): nothing is encoded.
    ///
    /// - Throws: ``SearchCore/SearchError`` for embeddings of the wrong
    ///   dimension, non-finite or zero ones.
    public func insert(_ item: CatalogItem, captionEmbedding: [Float]?, imageEmbedding: [Float]?) throws(SearchError) {
        var vectors: [String: FieldRows] = [:]
        if var v = captionEmbedding {
            try SearchError.checkDimension(v.count, expected: configuration.textEncoder.dimension, "the caption embedding")
            try IngestStage.normalize(&v, what: "the caption embedding of item \(item.id)")
            vectors[VectorField.caption] = FieldRows(ids: [item.id], rows: v)
        }
        if var v = imageEmbedding, let image = configuration.imageEncoder {
            try SearchError.checkDimension(v.count, expected: image.dimension, "the image embedding")
            try IngestStage.normalize(&v, what: "the image embedding of item \(item.id)")
            vectors[VectorField.image] = FieldRows(ids: [item.id], rows: v)
        }
        try store.add([item], vectors: vectors)
    }

    /// Removes items and their vectors; returns how many were present.
    @discardableResult
    public func remove(_ ids: [VectorID]) throws(SearchError) -> Int { try store.remove(ids) }
}
