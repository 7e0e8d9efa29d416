import SearchCore
import Tensor

/// Multihead attention pooling (MAP; Zhai et al. 2022, "Scaling Vision
/// Transformers"), SigLIP's image head: one learned probe attends over a
/// sequence's token states, its attention output is projected, and a
/// residual MLP behind a layer norm follows:
///
///     h = out(MHA(probe, states, states));  pooled = h + MLP(LN(h))
///
/// The probe's query projection does not depend on the input, so it is
/// computed once at load; keys and values of every token of a batch are one
/// GEMM.
struct AttentionPoolingHead: Sendable {
    /// The names one architecture gives the head's tensors, relative to its prefix.
    struct Keys: Sendable {
        var probe: String
        /// One fused `[3·width, width]` in-projection (weight, bias), or separate query and key–value Linears.
        var fused: (weight: String, bias: String)?
        var query: String
        var keyValue: String
        var out: String
        var norm: String
        var fc1: String
        var fc2: String

        /// Hugging Face `SiglipMultiheadAttentionPoolingHead`: `probe`,
        /// `attention.{in_proj_weight, in_proj_bias, out_proj}`, `layernorm`, `mlp.{fc1, fc2}`.
        static let huggingFace = Keys(
            probe: "probe", fused: ("attention.in_proj_weight", "attention.in_proj_bias"), query: "", keyValue: "",
            out: "attention.out_proj", norm: "layernorm", fc1: "mlp.fc1", fc2: "mlp.fc2")

        /// timm's `AttentionPoolLatent` (open_clip's SigLIP image towers):
        /// `latent`, `q`, `kv`, `proj`, `norm`, `mlp.{fc1, fc2}`.
        static let timm = Keys(
            probe: "latent", fused: nil, query: "q", keyValue: "kv", out: "proj", norm: "norm", fc1: "mlp.fc1",
            fc2: "mlp.fc2")
    }

    let width: Int
    let heads: Int
    let activation: Activation
    let layerNormEpsilon: Float
    /// The probe's query, `probe·W_qᵀ + b_q` (`width` floats).
    let query: [Float]
    /// `[2·width, width]`: keys then values.
    let keyValue: LinearLayerMatrix
    let keyValueBias: [Float]
    let out: LinearLayerMatrix
    let outBias: [Float]
    let normWeight, normBias: [Float]
    let fc1: LinearLayerMatrix
    let fc1Bias: [Float]
    let fc2: LinearLayerMatrix
    let fc2Bias: [Float]

    init(
        loading loader: inout WeightLoader, prefix: String, keys: Keys, geometry: TransformerGeometry
    ) throws(SearchError) {
        let w = geometry.width, f = geometry.mlpWidth
        width = w
        heads = geometry.heads
        activation = geometry.activation
        layerNormEpsilon = geometry.layerNormEpsilon
        let probe = try loader.take(prefix + keys.probe, elementsOf: [w])
        let queryWeight: Tensor<Float>, queryBias: Tensor<Float>
        let kvWeight: Tensor<Float>, kvBias: Tensor<Float>
        if let fused = keys.fused {
            let weight = try loader.take(prefix + fused.weight, shape: [3 * w, w])
            let bias = try loader.take(prefix + fused.bias, shape: [3 * w])
            queryWeight = weight.rows(0..<w)
            kvWeight = weight.rows(w..<(3 * w))
            queryBias = bias.rows(0..<w)
            kvBias = bias.rows(w..<(3 * w))
        } else {
            queryWeight = try loader.take(prefix + keys.query + ".weight", shape: [w, w])
            queryBias = try loader.take(prefix + keys.query + ".bias", shape: [w])
            kvWeight = try loader.take(prefix + keys.keyValue + ".weight", shape: [2 * w, w])
            kvBias = try loader.take(prefix + keys.keyValue + ".bias", shape: [2 * w])
        }
        var q = [Float](repeating: 0, count: w)
        probe.withUnsafeBufferPointer { p in
            queryWeight.withUnsafeBufferPointer { m in
                queryBias.withUnsafeBufferPointer { b in
                    for i in 0..<w { q[i] = b[i] + Kernels.active.dot(p.baseAddress!, m.baseAddress! + i * w, count: w) }
                }
            }
        }
        query = q
        keyValue = LinearLayerMatrix(kvWeight)
        keyValueBias = Array(kvBias.scalars)
        out = LinearLayerMatrix(try loader.take(prefix + keys.out + ".weight", shape: [w, w]))
        outBias = Array(try loader.take(prefix + keys.out + ".bias", shape: [w]).scalars)
        normWeight = Array(try loader.take(prefix + keys.norm + ".weight", shape: [w]).scalars)
        normBias = Array(try loader.take(prefix + keys.norm + ".bias", shape: [w]).scalars)
        fc1 = LinearLayerMatrix(try loader.take(prefix + keys.fc1 + ".weight", shape: [f, w]))
        fc1Bias = Array(try loader.take(prefix + keys.fc1 + ".bias", shape: [f]).scalars)
        fc2 = LinearLayerMatrix(try loader.take(prefix + keys.fc2 + ".weight", shape: [w, f]))
        fc2Bias = Array(try loader.take(prefix + keys.fc2 + ".bias", shape: [w]).scalars)
    }

    /// Pools each sequence of `states` (`[tokens, width]`, packed) into one
    /// row of `output` (`sequences.count × width` floats).
    func callAsFunction(
        _ states: UnsafePointer<Float>, sequences: [Range<Int>], into output: UnsafeMutablePointer<Float>
    ) {
        let w = width, d = width / heads, count = sequences.count
        let tokens = sequences.last?.upperBound ?? 0
        let longest = sequences.map(\.count).max() ?? 0
        let f = fc1.outputs
        let kernels = Kernels.active
        let scale = 1 / Float(d).squareRoot()
        var kv = [Float](repeating: 0, count: tokens * 2 * w)
        var context = [Float](repeating: 0, count: count * w)
        var scores = [Float](repeating: 0, count: longest)
        var normed = [Float](repeating: 0, count: count * w)
        var hidden = [Float](repeating: 0, count: count * f)
        kv.withUnsafeMutableBufferPointer { kv in
        context.withUnsafeMutableBufferPointer { context in
        scores.withUnsafeMutableBufferPointer { scores in
        query.withUnsafeBufferPointer { q in
            let kv = kv.baseAddress!, context = context.baseAddress!, scores = scores.baseAddress!
            keyValueBias.withUnsafeBufferPointer { b in
                keyValue.apply(states, rows: tokens, bias: b.baseAddress!, into: kv)
            }
            for (i, sequence) in sequences.enumerated() {
                let n = sequence.count
                let rows = kv + sequence.lowerBound * 2 * w
                for h in 0..<heads {
                    kernels.dot(q.baseAddress! + h * d, rows: rows + h * d, stride: 2 * w, rowCount: n, count: d, into: scores)
                    for t in 0..<n { scores[t] *= scale }
                    kernels.softmax(scores, count: n)
                    let target = context + i * w + h * d
                    for j in 0..<d { target[j] = 0 }
                    for t in 0..<n {
                        let value = rows + t * 2 * w + w + h * d
                        let p = scores[t]
                        for j in 0..<d { target[j] += p * value[j] }
                    }
                }
            }
            outBias.withUnsafeBufferPointer { b in
                out.apply(context, rows: count, bias: b.baseAddress!, into: output)
            }
        }}}}
        normed.withUnsafeMutableBufferPointer { normed in
        hidden.withUnsafeMutableBufferPointer { hidden in
        normWeight.withUnsafeBufferPointer { g in
        normBias.withUnsafeBufferPointer { b in
            let normed = normed.baseAddress!, hidden = hidden.baseAddress!
            normed.update(from: output, count: count * w)
            for r in 0..<count {
                FastMath.layerNorm(
                    normed + r * w, count: w, gamma: g.baseAddress!, beta: b.baseAddress!, epsilon: layerNormEpsilon)
            }
            fc1Bias.withUnsafeBufferPointer { b1 in
                fc1.apply(normed, rows: count, bias: b1.baseAddress!, activation: activation.kernel, into: hidden)
            }
            activation.finish(hidden, count: count * f)
            fc2Bias.withUnsafeBufferPointer { b2 in
                fc2.apply(hidden, rows: count, bias: b2.baseAddress!, accumulate: true, into: output)
            }
        }}}}
    }
}
