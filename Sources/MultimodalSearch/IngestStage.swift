import Dispatch
import Foundation
import ImageDecoding
import SearchCore
import Synchronization
import Tensor

/// Ingestion: pictures read, decoded and preprocessed on every core into one
/// batch buffer and embedded in one forward pass; captions embedded in
/// batches; each through the content-hash cache; every vector scaled to
/// unit length. A picture that cannot be read or decoded skips its own item,
/// never the batch.
struct IngestStage: Sendable {
    let configuration: SearchEngine.Configuration
    let cache: EmbeddingCache

    /// One batch's vectors by field, and the items that made it.
    struct Batch {
        var accepted: [CatalogItem] = []
        var vectors: [String: FieldRows] = [:]
    }

    /// Embeds `items` (identifiers distinct) into vectors by field; what is
    /// skipped, and why, goes to `report`.
    func embed(_ items: [CatalogItem], report: inout IngestReport) throws(SearchError) -> Batch {
        var accepted: [CatalogItem] = []
        for item in items {
            if item.caption == nil && item.image == nil {
                report.skipped.append((item.id, SearchError(.invalidArgument, "item \(item.id) has neither caption nor picture")))
            } else {
                accepted.append(item)
            }
        }
        // Pictures first: one that fails drops its item from the caption batch too.
        let pictured = accepted.filter { $0.image != nil }
        let pictures = try pictureEmbeddings(pictured.map { $0.image! }, report: &report)
        var failed = Set<VectorID>()
        var imageRows = FieldRows(ids: [], rows: [])
        for (item, outcome) in zip(pictured, pictures) {
            switch outcome {
            case .failure(let error):
                report.skipped.append((item.id, error))
                failed.insert(item.id)
            case .success(let vector?):
                imageRows.ids.append(item.id)
                imageRows.rows += vector
                report.imageEmbeddings[item.id] = vector
            case .success(nil):
                break  // checked, but no image encoder to embed it
            }
        }
        accepted.removeAll { failed.contains($0.id) }
        if !configuration.tagging.isEmpty { try tag(&accepted, report: &report) }

        let captioned = accepted.filter { $0.caption != nil }
        let captionVectors = try textEmbeddings(
            captioned.map { $0.caption! }, encoder: configuration.textEncoder, name: configuration.textEncoderName,
            report: &report)
        let d = configuration.textEncoder.dimension
        for (i, item) in captioned.enumerated() {
            report.captionEmbeddings[item.id] = Array(captionVectors[(i * d)..<((i + 1) * d)])
        }
        var batch = Batch(accepted: accepted)
        batch.vectors[VectorField.caption] = FieldRows(ids: captioned.map(\.id), rows: captionVectors)
        if configuration.imageEncoder != nil { batch.vectors[VectorField.image] = imageRows }
        return batch
    }

    /// The text inside each picture of `items`, by the configuration's image
    /// text extractor, on every core; a picture whose text cannot be read is
    /// listed in `report.pictureTextErrors` and its item indexed without it.
    /// Nil when there is no extractor.
    func pictureTexts(_ items: [CatalogItem], report: inout IngestReport) -> [VectorID: String]? {
        guard let extractor = configuration.imageTextExtractor else { return nil }
        let pictured = items.filter { $0.image != nil }
        let found = Mutex<[VectorID: String]>([:])
        let failures = Self.parallel(count: pictured.count) { (i) throws(SearchError) in
            let item = pictured[i]
            let image: RGBImage
            if case .pixels(let pixels) = item.image! {
                image = pixels
            } else {
                image = try ImageDecoder.decode(try Self.encodedBytes(item.image!), options: configuration.decoding)
            }
            let text = try extractor.text(in: image)
            if !text.isEmpty { found.withLock { $0[item.id] = text } }
        }
        for (i, error) in failures.sorted(by: { $0.key < $1.key }) { report.pictureTextErrors.append((pictured[i].id, error)) }
        let texts = found.withLock { $0 }
        for (id, text) in texts { report.pictureText[id] = text }
        return texts
    }

    /// Runs the configuration's tagging steps on every item with a picture
    /// embedding, writing labels into the items and the report.
    func tag(_ items: inout [CatalogItem], report: inout IngestReport) throws(SearchError) {
        for i in items.indices {
            guard let vector = report.imageEmbeddings[items[i].id] else { continue }
            var written: [LabelScore] = []
            for step in configuration.tagging { written += try step.tag(&items[i], embedding: vector) }
            if !written.isEmpty { report.labels[items[i].id] = written }
        }
    }

    /// Unit-length embeddings of `texts`, end to end, through the cache, in
    /// batches of ``SearchEngine/Configuration/batchSize``.
    func textEmbeddings(
        _ texts: [String], encoder: any TextEncoder, name: String, report: inout IngestReport
    ) throws(SearchError) -> [Float] {
        let d = encoder.dimension
        var out = [Float](repeating: 0, count: texts.count * d)
        var missing: [Int] = []
        for (i, text) in texts.enumerated() {
            if let hit = cache.embedding(for: EmbeddingCache.key(encoder: name, content: text.utf8)) {
                out.replaceSubrange((i * d)..<((i + 1) * d), with: hit)
                report.cacheHits += 1
            } else {
                missing.append(i)
            }
        }
        var start = 0
        while start < missing.count {
            let chunk = Array(missing[start..<min(start + configuration.batchSize, missing.count)])
            var vectors = [Float](repeating: 0, count: chunk.count * d)
            try vectors.withUnsafeMutableBufferPointer { (v) throws(SearchError) in
                try encoder.embed(texts: chunk.map { texts[$0] }, into: v)
            }
            for (j, i) in chunk.enumerated() {
                var v = Array(vectors[(j * d)..<((j + 1) * d)])
                try Self.normalize(&v, what: "the embedding of \"\(texts[i].prefix(40))\"")
                cache.store(v, for: EmbeddingCache.key(encoder: name, content: texts[i].utf8))
                out.replaceSubrange((i * d)..<((i + 1) * d), with: v)
            }
            start += chunk.count
        }
        return out
    }

    /// Each picture's unit-length embedding (nil without an image encoder,
    /// when the picture is only checked), or why it could not be read.
    ///
    /// Reading, decoding and preprocessing run on every core, each picture
    /// into its own slot of one buffer, so a broken picture fails alone; the
    /// pictures that made it are then embedded in one `embed(images:)` call,
    /// cut into forward passes by the encoder's batch policy.
    func pictureEmbeddings(_ sources: [ImageSource], report: inout IngestReport) throws(SearchError)
        -> [Result<[Float]?, SearchError>]
    {
        guard !sources.isEmpty else { return [] }
        var outcomes = [Result<[Float]?, SearchError>](repeating: .success(nil), count: sources.count)
        guard let encoder = configuration.imageEncoder else {
            // No encoder: still decode, so a broken picture is reported at ingest rather than found later.
            let failures = Self.parallel(count: sources.count) { i throws(SearchError) in
                if case .pixels = sources[i] { return }
                _ = try ImageDecoder.decode(try Self.encodedBytes(sources[i]), options: configuration.decoding)
            }
            for (i, error) in failures { outcomes[i] = .failure(error) }
            return outcomes
        }
        // Cached embeddings first (keyed by the file's bytes).
        var keys = [String?](repeating: nil, count: sources.count)
        var inputs = [ImageInput?](repeating: nil, count: sources.count)
        for (i, source) in sources.enumerated() {
            switch source {
            case .pixels(let image):
                inputs[i] = .rgb(image)
            case .encoded(let bytes):
                keys[i] = EmbeddingCache.key(encoder: configuration.imageEncoderName, content: bytes)
                inputs[i] = .encoded(bytes)
            case .file:
                break  // read on the workers below
            }
            if let key = keys[i], let hit = cache.embedding(for: key) {
                outcomes[i] = .success(hit)
                report.cacheHits += 1
                inputs[i] = nil
            }
        }
        let pending = sources.indices.filter { if case .success(nil) = outcomes[$0] { true } else { false } }
        guard !pending.isEmpty else { return outcomes }

        let given = inputs
        let size = encoder.inputShape.floatCount
        let d = encoder.dimension
        var arena = [Float](repeating: 0, count: pending.count * size)
        let fileKeys = Mutex<[Int: String]>([:])
        let failures = arena.withUnsafeMutableBufferPointer { buffer in
            let base = UnsafeMutableSendablePointer(buffer.baseAddress!)
            return Self.parallel(count: pending.count) { (slot) throws(SearchError) in
                let i = pending[slot]
                let input: ImageInput
                if let known = given[i] {
                    input = known
                } else {
                    let bytes = try Self.encodedBytes(sources[i])
                    fileKeys.withLock { $0[i] = EmbeddingCache.key(encoder: configuration.imageEncoderName, content: bytes) }
                    input = .encoded(bytes)
                }
                try encoder.preprocess(input, into: UnsafeMutableBufferPointer(start: base.pointer + slot * size, count: size))
            }
        }
        for (slot, error) in failures { outcomes[pending[slot]] = .failure(error) }
        for (i, key) in fileKeys.withLock({ $0 }) { keys[i] = key }

        // The pictures that decoded, embedded together: the encoder's own batch policy cuts them
        // into forward passes (and runs passes side by side when it is told to).
        let good = (0..<pending.count).filter { failures[$0] == nil }
        let shape = encoder.inputShape
        let batch = good.map { slot in
            ImageInput.preprocessed(Array(arena[(slot * size)..<((slot + 1) * size)]), width: shape.width, height: shape.height)
        }
        var vectors = [Float](repeating: 0, count: good.count * d)
        try vectors.withUnsafeMutableBufferPointer { (v) throws(SearchError) in try encoder.embed(images: batch, into: v) }
        for (j, slot) in good.enumerated() {
            let i = pending[slot]
            var v = Array(vectors[(j * d)..<((j + 1) * d)])
            do throws(SearchError) {
                try Self.normalize(&v, what: "the picture embedding of item \(i)")
                if let key = keys[i] { cache.store(v, for: key) }
                outcomes[i] = .success(v)
            } catch {
                outcomes[i] = .failure(error)
            }
        }
        return outcomes
    }

    /// Runs `body` for 0..<count on every core; returns the errors by index.
    static func parallel(count: Int, _ body: @Sendable (Int) throws(SearchError) -> Void) -> [Int: SearchError] {
        let failures = Mutex<[Int: SearchError]>([:])
        DispatchQueue.concurrentPerform(iterations: count) { i in
            do throws(SearchError) { try body(i) } catch { failures.withLock { $0[i] = error } }
        }
        return failures.withLock { $0 }
    }

    /// The file bytes of a file or encoded source (pixels have none).
    static func encodedBytes(_ source: ImageSource) throws(SearchError) -> [UInt8] {
        switch source {
        case .file(let path):
            do {
                return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            } catch {
                throw SearchError(.io, "cannot read \(path)", underlying: SendableDescription(error))
            }
        case .encoded(let bytes):
            return bytes
        case .pixels:
            return []
        }
    }

    static func normalize(_ v: inout [Float], what: String) throws(SearchError) {
        let norm = v.withUnsafeMutableBufferPointer { VectorMath.l2Normalize($0) }
        guard norm > 0, norm.isFinite else {
            throw SearchError(.invalidVector, "\(what) is zero or not finite; it cannot be searched")
        }
    }
}

/// A pointer handed to concurrent workers that each write a disjoint slot.
///
/// `@unchecked Sendable` is sound here because every worker writes only its
/// own `slot * size ..< (slot + 1) * size` range of a buffer that outlives
/// the `concurrentPerform` call, and nothing reads the buffer until every
/// worker has returned.
struct UnsafeMutableSendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}
