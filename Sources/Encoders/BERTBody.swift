import SearchCore
import Tensor

/// The embeddings and post-LN blocks shared by BERT-family encoders
/// (``BERTTextEncoder``, ``MultilingualCLIPTextEncoder``): word + position +
/// type-0 embeddings, a layer norm, the blocks, then the pooled state.
///
/// RoBERTa-family models (XLM-RoBERTa) number positions from
/// ``BERTConfiguration/positionOffset`` (`padding_idx + 1`), as their
/// `create_position_ids_from_input_ids` does for sequences without padding.
struct BERTBody: Sendable {
    let configuration: BERTConfiguration
    /// FP16 unless the precision is FP32.
    let wordEmbeddings: EmbeddingTable
    let positionEmbeddings: Tensor<Float>
    let typeEmbeddings: Tensor<Float>
    let embeddingNormWeight: Tensor<Float>
    let embeddingNormBias: Tensor<Float>
    let stack: TransformerStack

    /// Takes `embeddings.*` and `encoder.layer.N.*` under `prefix`, LayerNorm
    /// parameters as `weight`/`bias` or the older `gamma`/`beta`.
    init(
        loading loader: inout WeightLoader, prefix: String, configuration: BERTConfiguration, precision: WeightPrecision
    ) throws(SearchError) {
        let geometry = configuration.geometry
        try geometry.validate("BERT configuration")
        let old = loader.contains(prefix + "embeddings.LayerNorm.gamma")
        let (nw, nb) = old ? ("gamma", "beta") : ("weight", "bias")
        let h = configuration.hiddenSize
        wordEmbeddings = EmbeddingTable(
            try loader.take(prefix + "embeddings.word_embeddings.weight", shape: [configuration.vocabularySize, h]),
            precision: precision)
        positionEmbeddings = try loader.take(
            prefix + "embeddings.position_embeddings.weight", shape: [configuration.maximumPositions, h])
        typeEmbeddings = try loader.take(
            prefix + "embeddings.token_type_embeddings.weight", shape: [configuration.typeVocabularySize, h])
        embeddingNormWeight = try loader.take(prefix + "embeddings.LayerNorm." + nw, shape: [h])
        embeddingNormBias = try loader.take(prefix + "embeddings.LayerNorm." + nb, shape: [h])
        stack = try TransformerStack(
            loading: &loader, keys: .bert(prefix, normWeight: nw, normBias: nb), geometry: geometry, precision: precision)
        self.configuration = configuration
    }

    /// Writes each sequence's pooled last hidden state (not normalised) into
    /// `output`, `tokenIDs.count × hiddenSize` floats.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/invalidArgument`` for an empty
    ///   sequence, one longer than ``BERTConfiguration/maximumTokens``, or an
    ///   id outside the vocabulary.
    func pooledStates(
        _ tokenIDs: [[Int32]], pooling: BERTTextEncoder.Pooling, into output: UnsafeMutableBufferPointer<Float>
    ) throws(SearchError) {
        let h = configuration.hiddenSize, offset = configuration.positionOffset
        try SearchError.checkDimension(output.count, expected: tokenIDs.count * h, "the output buffer")
        var sequences: [Range<Int>] = []
        sequences.reserveCapacity(tokenIDs.count)
        var tokens = 0
        for ids in tokenIDs {
            try TokenSequence.check(ids, maximumTokens: configuration.maximumTokens, vocabularySize: configuration.vocabularySize)
            sequences.append(tokens..<(tokens + ids.count))
            tokens += ids.count
        }
        guard tokens > 0 else { return }
        var x = [Float](repeating: 0, count: tokens * h)
        x.withUnsafeMutableBufferPointer { xb in
            let x = xb.baseAddress!
            wordEmbeddings.withRows { wordRow in
            positionEmbeddings.withUnsafeBufferPointer { position in
            typeEmbeddings.withUnsafeBufferPointer { type in
            embeddingNormWeight.withUnsafeBufferPointer { g in
            embeddingNormBias.withUnsafeBufferPointer { b in
                for (s, ids) in zip(sequences, tokenIDs) {
                    for (p, id) in ids.enumerated() {
                        let row = x + (s.lowerBound + p) * h
                        wordRow(Int(id), row)
                        let q = position.baseAddress! + (offset + p) * h
                        for j in 0..<h { row[j] = row[j] + q[j] + type[j] }
                        FastMath.layerNorm(
                            row, count: h, gamma: g.baseAddress!, beta: b.baseAddress!,
                            epsilon: configuration.layerNormEpsilon)
                    }
                }
            }}}}}
            stack(x, sequences: sequences)
            for (i, s) in sequences.enumerated() {
                let out = output.baseAddress! + i * h
                switch pooling {
                case .mean:
                    for j in 0..<h { out[j] = 0 }
                    for t in s {
                        let row = x + t * h
                        for j in 0..<h { out[j] += row[j] }
                    }
                    let inverse = 1 / Float(s.count)
                    for j in 0..<h { out[j] *= inverse }
                case .classToken:
                    out.update(from: x + s.lowerBound * h, count: h)
                }
            }
        }
    }
}
