import Tensor

/// The forward pass CLIP's, SigLIP's and NLLB's text towers share, over
/// sequences packed one after another: each token's embedding (times
/// `scale`) plus its position's row, the transformer stack, the final layer
/// norm of one state per sequence, and the projection into the shared space.
/// The towers differ only in what they hand in: where positions start, the
/// embedding scale, which state is pooled, and whether the projection has a bias.
struct TextTowerPass {
    /// The width of every token state.
    var width: Int
    /// `positions` row `positionOffset + p` is added to the token at index `p` of its sequence.
    var positionOffset = 0
    /// Token embeddings are multiplied by this before the position is added (NLLB: √width).
    var scale: Float = 1
    /// The final layer norm's epsilon.
    var epsilon: Float
    /// Whether the stack may stop computing states that are not pooled (its last block).
    var keepsOnlyPooled = true

    /// Runs the pass: `pooled[i]` is the packed row whose final state becomes
    /// sequence `i`'s embedding in `output` (`pooled.count × projection.shape[0]` floats).
    func callAsFunction(
        _ tokenIDs: [[Int32]], sequences: [Range<Int>], pooled: [Int], tokenEmbeddings: EmbeddingTable,
        positions: UnsafeBufferPointer<Float>, stack: TransformerStack,
        finalNorm: (weight: Tensor<Float>, bias: Tensor<Float>), projection: Tensor<Float>, bias: Tensor<Float>?,
        normalizes: Bool, into output: UnsafeMutableBufferPointer<Float>
    ) {
        let w = width, tokens = sequences.last?.upperBound ?? 0
        guard tokens > 0 else { return }
        var x = [Float](repeating: 0, count: tokens * w)
        var states = [Float](repeating: 0, count: pooled.count * w)
        x.withUnsafeMutableBufferPointer { xb in
            let x = xb.baseAddress!
            tokenEmbeddings.withRows { tokenRow in
                for (s, ids) in zip(sequences, tokenIDs) {
                    for p in 0..<s.count {
                        let row = x + (s.lowerBound + p) * w
                        tokenRow(Int(ids[p]), row)
                        let q = positions.baseAddress! + (positionOffset + p) * w
                        if scale == 1 {
                            for j in 0..<w { row[j] += q[j] }
                        } else {
                            for j in 0..<w { row[j] = row[j] * scale + q[j] }
                        }
                    }
                }
            }
            stack(x, sequences: sequences, keeping: keepsOnlyPooled ? pooled : nil)
            states.withUnsafeMutableBufferPointer { states in
                finalNorm.weight.withUnsafeBufferPointer { g in
                    finalNorm.bias.withUnsafeBufferPointer { b in
                        for (i, row) in pooled.enumerated() {
                            let state = states.baseAddress! + i * w
                            state.update(from: x + row * w, count: w)
                            FastMath.layerNorm(state, count: w, gamma: g.baseAddress!, beta: b.baseAddress!, epsilon: epsilon)
                        }
                    }
                }
                project(states.baseAddress!, count: pooled.count, projection, bias: bias, into: output, normalizes: normalizes)
            }
        }
    }
}
