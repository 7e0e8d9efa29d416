import SearchCore
import Tensor

/// Where a transformer block normalises: before each sub-layer (CLIP, ViT)
/// or after each residual sum (BERT).
enum NormPlacement: Sendable {
    case pre
    case post
}

/// The MLP's activation, as the configuration names it.
public enum Activation: Sendable, Equatable {
    /// `½x(1 + erf(x/√2))` (`gelu` in BERT and Hugging Face configurations).
    case gelu
    /// The tanh approximation (`gelu_new`, `gelu_pytorch_tanh`).
    case geluTanh
    /// `x·σ(1.702x)`, OpenAI CLIP's (`quick_gelu`).
    case quickGELU
    /// `max(x, 0)` (`relu`: NLLB's and M2M-100's encoders). Applied in a
    /// pass after the GEMM, which has no ReLU epilogue.
    case relu

    /// Reads a Hugging Face `hidden_act` value.
    init(huggingFace name: String) throws(SearchError) {
        switch name {
        case "gelu": self = .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": self = .geluTanh
        case "quick_gelu": self = .quickGELU
        case "relu": self = .relu
        default: throw SearchError(.unsupportedFormat, "hidden_act \"\(name)\" is not supported (gelu, gelu_new, quick_gelu, relu)")
        }
    }

    /// The C kernels' form, applied in the GEMM's epilogue or by ``Tensor/Kernels/activate(_:count:_:)``.
    var kernel: KernelActivation {
        switch self {
        case .gelu: .gelu
        case .geluTanh: .geluTanh
        case .quickGELU: .quickGELU
        case .relu: .identity
        }
    }

    /// Applies what ``kernel`` leaves out (ReLU) to `count` values in place.
    @inline(__always)
    func finish(_ x: UnsafeMutablePointer<Float>, count: Int) {
        guard self == .relu else { return }
        for i in 0..<count { x[i] = Swift.max(x[i], 0) }
    }
}

/// The geometry of a transformer encoder stack.
struct TransformerGeometry: Sendable, Equatable {
    var width: Int
    var heads: Int
    var layers: Int
    var mlpWidth: Int
    var activation: Activation
    var layerNormEpsilon: Float
    var placement: NormPlacement
    /// Each token attends only to itself and earlier tokens (CLIP's text tower).
    var causal: Bool

    var headWidth: Int { width / heads }

    func validate(_ what: String) throws(SearchError) {
        guard width > 0, heads > 0, layers >= 0, mlpWidth > 0, width % heads == 0 else {
            throw SearchError(
                .invalidArgument, "\(what): width \(width), \(heads) heads, MLP \(mlpWidth): width must be a positive multiple of heads")
        }
    }
}

/// One block's weights, in PyTorch `Linear` layout (`[out, in]`, applied as
/// `x·Wᵀ + b`), q, k and v fused into one `[3·width, width]` matrix.
struct TransformerLayerWeights: Sendable {
    var norm1Weight, norm1Bias: Tensor<Float>
    var qkvWeight: LinearWeight, qkvBias: Tensor<Float>
    var outWeight: LinearWeight, outBias: Tensor<Float>
    var norm2Weight, norm2Bias: Tensor<Float>
    var fc1Weight: LinearWeight, fc1Bias: Tensor<Float>
    var fc2Weight: LinearWeight, fc2Bias: Tensor<Float>
}

/// The names one architecture gives a block's tensors, relative to the block's prefix.
struct TransformerKeyMap: Sendable {
    /// The prefix of block `i` (`"visual.transformer.resblocks.\(i)."`).
    var block: @Sendable (Int) -> String
    var norm1: String
    /// Either one fused `in_proj` (weight, bias) or three (q, k, v) Linear names.
    var fusedQKV: (weight: String, bias: String)?
    var separateQKV: [String]
    var out: String
    var norm2: String
    var fc1: String
    var fc2: String
    /// The LayerNorm parameter names: `weight`/`bias`, or `gamma`/`beta` in old BERT checkpoints.
    var normWeight = "weight"
    var normBias = "bias"

    /// OpenAI CLIP and open_clip: `transformer.resblocks.N.{ln_1, attn.in_proj_*, attn.out_proj, ln_2, mlp.c_fc, mlp.c_proj}`.
    static func openAI(_ prefix: String) -> TransformerKeyMap {
        TransformerKeyMap(
            block: { "\(prefix)transformer.resblocks.\($0)." }, norm1: "ln_1",
            fusedQKV: ("attn.in_proj_weight", "attn.in_proj_bias"), separateQKV: [],
            out: "attn.out_proj", norm2: "ln_2", fc1: "mlp.c_fc", fc2: "mlp.c_proj")
    }

    /// Hugging Face M2M-100 / NLLB encoder (pre-LN): `layers.N.{self_attn_layer_norm,
    /// self_attn.{q,k,v,out}_proj, final_layer_norm, fc1, fc2}`.
    static func m2m100(_ prefix: String) -> TransformerKeyMap {
        TransformerKeyMap(
            block: { "\(prefix)layers.\($0)." }, norm1: "self_attn_layer_norm",
            fusedQKV: nil, separateQKV: ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"],
            out: "self_attn.out_proj", norm2: "final_layer_norm", fc1: "fc1", fc2: "fc2")
    }

    /// Hugging Face `CLIPModel`: `encoder.layers.N.{layer_norm1, self_attn.{q,k,v,out}_proj, layer_norm2, mlp.fc1, mlp.fc2}`.
    static func huggingFaceCLIP(_ prefix: String) -> TransformerKeyMap {
        TransformerKeyMap(
            block: { "\(prefix)encoder.layers.\($0)." }, norm1: "layer_norm1",
            fusedQKV: nil, separateQKV: ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"],
            out: "self_attn.out_proj", norm2: "layer_norm2", fc1: "mlp.fc1", fc2: "mlp.fc2")
    }

    /// BERT (post-LN): `encoder.layer.N.{attention.self.{query,key,value}, attention.output.{dense,LayerNorm},
    /// intermediate.dense, output.{dense,LayerNorm}}`. `norm1` is the attention's output norm.
    static func bert(_ prefix: String, normWeight: String = "weight", normBias: String = "bias") -> TransformerKeyMap {
        TransformerKeyMap(
            block: { "\(prefix)encoder.layer.\($0)." }, norm1: "attention.output.LayerNorm",
            fusedQKV: nil, separateQKV: ["attention.self.query", "attention.self.key", "attention.self.value"],
            out: "attention.output.dense", norm2: "output.LayerNorm", fc1: "intermediate.dense", fc2: "output.dense",
            normWeight: normWeight, normBias: normBias)
    }
}

/// A stack of transformer blocks run over packed token sequences.
///
/// Tokens of every sequence in a batch are packed into one `[tokens, width]`
/// matrix, so each projection and MLP is one GEMM over the whole batch, with
/// no padding; attention runs per sequence and head, two GEMMs each, reading
/// q, k and v in place from the fused projection (row stride `3·width`).
struct TransformerStack: Sendable {
    /// Up to this many tokens, projections stream the weights through the
    /// dot-product kernels instead of calling GEMM (see `linear`).
    static let smallBatchTokens = 16
    /// Weight rows per block in that path: 64 rows of 1536 floats is 384 KB, within L2.
    static let weightBlockRows = 64
    /// FP16 and INT8 weights are widened to single precision up to this many
    /// floats (4 MB) at a time before a GEMM: whole rows, at least
    /// ``weightBlockRows``: few, large GEMMs (ViT-B/32's MLP: 341 or all 3072
    /// rows per call) rather than many narrow ones.
    static let widenedTileFloats = 1 << 20

    /// Rows of an `inWidth`-wide weight widened per GEMM.
    static func widenedTileRows(inWidth: Int) -> Int {
        Swift.max(weightBlockRows, widenedTileFloats / Swift.max(inWidth, 1))
    }

    let geometry: TransformerGeometry
    let precision: WeightPrecision
    let layers: [TransformerLayerWeights]
    /// Buffers for the activations, kept between calls (shared by copies of the stack).
    let scratch = ScratchPool()

    init(
        loading loader: inout WeightLoader, keys: TransformerKeyMap, geometry: TransformerGeometry,
        precision: WeightPrecision = .float32
    ) throws(SearchError) {
        self.geometry = geometry
        self.precision = precision
        func linear(_ weight: Tensor<Float>) throws(SearchError) -> LinearWeight {
            try LinearWeight(weight, precision: precision)
        }
        let w = geometry.width, f = geometry.mlpWidth
        var layers: [TransformerLayerWeights] = []
        for i in 0..<geometry.layers {
            let p = keys.block(i)
            let qkvWeight: Tensor<Float>, qkvBias: Tensor<Float>
            if let fused = keys.fusedQKV {
                qkvWeight = try loader.take(p + fused.weight, shape: [3 * w, w])
                qkvBias = try loader.take(p + fused.bias, shape: [3 * w])
            } else {
                qkvWeight = try loader.takeConcatenated(keys.separateQKV.map { p + $0 + ".weight" }, rows: w, columns: w)
                qkvBias = try loader.takeConcatenated(keys.separateQKV.map { p + $0 + ".bias" }, rows: w, columns: 0)
            }
            layers.append(
                TransformerLayerWeights(
                    norm1Weight: try loader.take(p + keys.norm1 + "." + keys.normWeight, shape: [w]),
                    norm1Bias: try loader.take(p + keys.norm1 + "." + keys.normBias, shape: [w]),
                    qkvWeight: try linear(qkvWeight), qkvBias: qkvBias,
                    outWeight: try linear(loader.take(p + keys.out + ".weight", shape: [w, w])),
                    outBias: try loader.take(p + keys.out + ".bias", shape: [w]),
                    norm2Weight: try loader.take(p + keys.norm2 + "." + keys.normWeight, shape: [w]),
                    norm2Bias: try loader.take(p + keys.norm2 + "." + keys.normBias, shape: [w]),
                    fc1Weight: try linear(loader.take(p + keys.fc1 + ".weight", shape: [f, w])),
                    fc1Bias: try loader.take(p + keys.fc1 + ".bias", shape: [f]),
                    fc2Weight: try linear(loader.take(p + keys.fc2 + ".weight", shape: [w, f])),
                    fc2Bias: try loader.take(p + keys.fc2 + ".bias", shape: [w])))
        }
        self.layers = layers
    }

    /// Bytes held by the blocks' projection weights (biases and norms excluded).
    var projectionByteCount: Int {
        layers.reduce(0) { $0 + $1.qkvWeight.byteCount + $1.outWeight.byteCount + $1.fc1Weight.byteCount + $1.fc2Weight.byteCount }
    }

    /// Runs every block over `x`, `[tokens, width]` packed, in place.
    ///
    /// - Parameters:
    ///   - sequences: each sequence's rows in `x`; together they cover `x`.
    ///   - kept: when given, the only rows of the result the caller reads (a ViT's
    ///     class tokens). Every block still attends over all tokens, but after the
    ///     last block's attention everything is row by row, so its projection and
    ///     MLP run on these rows alone. They come out as in a full pass (bit for bit
    ///     on the packed GEMM, whose rows do not interact; within float rounding where
    ///     the row count changes OpenBLAS's or the few-token path), and the other rows
    ///     of `x` are left unspecified.
    ///   - threads: the threads the GEMMs, attention and layer norms may split over
    ///     (``Tensor/BLAS/threadCount`` when nil). Where every projection is packed FP32
    ///     (``splitsExactly``) the result is the same bit for bit whatever this is;
    ///     elsewhere OpenBLAS runs on its own process-wide thread count regardless.
    func callAsFunction(
        _ x: UnsafeMutablePointer<Float>, sequences: [Range<Int>], keeping kept: [Int]? = nil, threads: Int? = nil
    ) {
        let tokens = sequences.last?.upperBound ?? 0
        guard tokens > 0 else { return }
        let longest = sequences.map(\.count).max() ?? 0
        let w = geometry.width
        let eps = geometry.layerNormEpsilon
        let keptCount = kept?.count ?? 0
        // Each region starts on a 16-float (64-byte) boundary.
        func rounded(_ n: Int) -> Int { (n + 15) & ~15 }
        // Attention and the row-wise work between GEMMs split over the GEMM's threads in large passes.
        let available = Swift.max(1, threads ?? BLAS.threadCount)
        let attentionThreads = Self.attentionThreads(
            sequences: sequences, heads: geometry.heads, headWidth: geometry.headWidth, available: available)
        let attentionScratch = rounded(Kernels.attentionScratchCount(tokens: longest, headWidth: geometry.headWidth))
        let qkvOffset = rounded(tokens * w)
        let contextOffset = qkvOffset + rounded(tokens * 3 * w)
        let hiddenOffset = contextOffset + rounded(tokens * w)
        let scoresOffset = hiddenOffset + rounded(tokens * geometry.mlpWidth)
        let keptOffset = scoresOffset + attentionThreads * attentionScratch
        let tileOffset = keptOffset + rounded(3 * keptCount * w)
        let widest = Swift.max(w, geometry.mlpWidth)
        // Widened FP16/INT8 rows, or the INT8 GEMM's quantised activations (a byte per element
        // of the widest input, 4-byte groups, plus a scale and zero point per row).
        let tileCount = precision == .float32
            ? 0 : Swift.max(Self.widenedTileFloats, Self.weightBlockRows * widest, tokens * (widest + 3 + 8) / 4 + 16)
        let total = tileOffset + tileCount
        scratch.withBuffer(count: total) { base in
            let normed = base, qkv = base + qkvOffset, context = base + contextOffset
            let hidden = base + hiddenOffset, scores = base + scoresOffset
            let activation = geometry.activation.kernel
            let linear = { (x: UnsafePointer<Float>, tokens: Int, weight: LinearWeight, bias: Tensor<Float>,
                            y: UnsafeMutablePointer<Float>, accumulate: Bool, activation: KernelActivation) in
                self.linear(
                    x, tokens: tokens, weight, bias, activation: activation, into: y, accumulate: accumulate,
                    tile: base + tileOffset, threads: available)
            }
            for (index, layer) in layers.enumerated() {
                layer.norm1Weight.withUnsafeBufferPointer { g1 in
                layer.norm1Bias.withUnsafeBufferPointer { b1 in
                layer.norm2Weight.withUnsafeBufferPointer { g2 in
                layer.norm2Bias.withUnsafeBufferPointer { b2 in
                    let g1 = g1.baseAddress!, b1 = b1.baseAddress!, g2 = g2.baseAddress!, b2 = b2.baseAddress!
                    // Attention mixes tokens; the rest of a block works row by row, on `rows` rows
                    // of `x` (its residual stream), `context` and `normed`.
                    func rowwise(_ x: UnsafeMutablePointer<Float>, _ context: UnsafePointer<Float>,
                                 _ normed: UnsafeMutablePointer<Float>, rows: Int) {
                        switch geometry.placement {
                        case .pre:
                            linear(context, rows, layer.outWeight, layer.outBias, x, true, .identity)
                            Self.layerNormRows(
                                x, into: normed, rows: rows, width: w, gamma: g2, beta: b2, epsilon: eps, threads: available)
                            linear(normed, rows, layer.fc1Weight, layer.fc1Bias, hidden, false, activation)
                            geometry.activation.finish(hidden, count: rows * geometry.mlpWidth)
                            linear(hidden, rows, layer.fc2Weight, layer.fc2Bias, x, true, .identity)
                        case .post:
                            linear(context, rows, layer.outWeight, layer.outBias, x, true, .identity)
                            Self.layerNormRows(x, into: x, rows: rows, width: w, gamma: g1, beta: b1, epsilon: eps, threads: available)
                            linear(x, rows, layer.fc1Weight, layer.fc1Bias, hidden, false, activation)
                            geometry.activation.finish(hidden, count: rows * geometry.mlpWidth)
                            linear(hidden, rows, layer.fc2Weight, layer.fc2Bias, x, true, .identity)
                            Self.layerNormRows(x, into: x, rows: rows, width: w, gamma: g2, beta: b2, epsilon: eps, threads: available)
                        }
                    }
                    switch geometry.placement {
                    case .pre:
                        Self.layerNormRows(
                            x, into: normed, rows: tokens, width: w, gamma: g1, beta: b1, epsilon: eps, threads: available)
                        linear(normed, tokens, layer.qkvWeight, layer.qkvBias, qkv, false, .identity)
                    case .post:
                        linear(x, tokens, layer.qkvWeight, layer.qkvBias, qkv, false, .identity)
                    }
                    Self.attention(
                        qkv, sequences: sequences, geometry: geometry, scratch: scores, scratchCount: attentionScratch,
                        threads: attentionThreads, into: context)
                    if let kept, index == layers.count - 1 {
                        let keptX = base + keptOffset, keptContext = keptX + keptCount * w, keptNormed = keptContext + keptCount * w
                        for (i, row) in kept.enumerated() {
                            (keptX + i * w).update(from: x + row * w, count: w)
                            (keptContext + i * w).update(from: context + row * w, count: w)
                        }
                        rowwise(keptX, keptContext, keptNormed, rows: keptCount)
                        for (i, row) in kept.enumerated() { (x + row * w).update(from: keptX + i * w, count: w) }
                    } else {
                        rowwise(x, context, normed, rows: tokens)
                    }
                }}}}
            }
        }
    }

    /// `y ← f(x·Wᵀ + b)` (or `y ← f(y + x·Wᵀ + b)` when accumulating), one GEMM over all tokens
    /// (for FP16 and INT8 weights, one per tile of widened rows, see ``widenedTileFloats``).
    ///
    /// FP32 weights go through ``Tensor/LinearLayerMatrix/apply(_:rows:xStride:bias:activation:accumulate:into:yStride:kernels:)``
    /// (packed: bias and activation in the AVX2 or AVX-512 kernel's epilogue), except that a
    /// few tokens against row-major weights stream them through the dot kernels. Packed
    /// INT8 weights go through ``Tensor/Int8LinearMatrix`` (activations quantised per row).
    ///
    /// - Parameter tile: room for `widenedTileRows(inWidth:)` × `in` floats when the weights are not FP32,
    ///   and for the INT8 GEMM's scratch (``Tensor/Int8LinearMatrix/scratchByteCount(rows:)``).
    /// - Parameter threads: the packed GEMMs' (FP32 and INT8) split; OpenBLAS keeps its own.
    private func linear(
        _ x: UnsafePointer<Float>, tokens: Int, _ weight: LinearWeight, _ bias: Tensor<Float>,
        activation: KernelActivation, into y: UnsafeMutablePointer<Float>, accumulate: Bool,
        tile: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let outWidth = weight.shape[0], inWidth = weight.shape[1]
        let kernels = Kernels.active
        if case .int8Packed(let matrix) = weight {
            bias.withUnsafeBufferPointer { b in
                matrix.apply(
                    x, rows: tokens, bias: b.baseAddress!, activation: activation, accumulate: accumulate, into: y,
                    threads: threads, scratch: UnsafeMutableRawPointer(tile))
            }
            return
        }
        if case .float32(let matrix) = weight, matrix.isPacked || tokens > Self.smallBatchTokens {
            bias.withUnsafeBufferPointer { b in
                matrix.apply(
                    x, rows: tokens, bias: b.baseAddress!, activation: activation, accumulate: accumulate, into: y,
                    threads: threads, kernels: kernels)
            }
            return
        }
        bias.withUnsafeBufferPointer { b in
            for t in 0..<tokens {
                let row = y + t * outWidth
                if accumulate {
                    for j in 0..<outWidth { row[j] += b[j] }
                } else {
                    row.update(from: b.baseAddress!, count: outWidth)
                }
            }
        }
        defer {
            if activation != .identity { kernels.activate(y, count: tokens * outWidth, activation) }
        }
        if tokens <= Self.smallBatchTokens {
            // Few tokens: GEMM is bound by reading (and packing) the weights. Stream them once
            // instead, a block of rows small enough to stay in L2 against every token.
            withUnsafeTemporaryAllocation(of: Float.self, capacity: Self.weightBlockRows) { products in
                let out = products.baseAddress!
                var block = 0
                while block < outWidth {
                    let rows = Swift.min(Self.weightBlockRows, outWidth - block)
                    switch weight {
                    case .float32(let matrix):
                        _ = matrix.withRowMajorWeights { wp in
                            let w = wp + block * inWidth
                            for t in 0..<tokens {
                                kernels.dot(x + t * inWidth, rows: w, stride: inWidth, rowCount: rows, count: inWidth, into: out)
                                let row = y + t * outWidth + block
                                for j in 0..<rows { row[j] += out[j] }
                            }
                        }
                    case .float16(let t):
                        t.withUnsafeBufferPointer { wp in
                            let w = wp.baseAddress! + block * inWidth
                            for t in 0..<tokens {
                                kernels.dot(x + t * inWidth, rows: w, stride: inWidth, rowCount: rows, count: inWidth, into: out)
                                let row = y + t * outWidth + block
                                for j in 0..<rows { row[j] += out[j] }
                            }
                        }
                    case .int8, .int8Packed:
                        weight.widen(rows: block..<(block + rows), into: tile, kernels: kernels)
                        for t in 0..<tokens {
                            kernels.dot(x + t * inWidth, rows: tile, stride: inWidth, rowCount: rows, count: inWidth, into: out)
                            let row = y + t * outWidth + block
                            for j in 0..<rows { row[j] += out[j] }
                        }
                    }
                    block += rows
                }
            }
            return
        }
        var block = 0
        while block < outWidth {
            let rows = Swift.min(Self.widenedTileRows(inWidth: inWidth), outWidth - block)
            weight.widen(rows: block..<(block + rows), into: tile, kernels: kernels)
            BLAS.sgemm(
                m: tokens, n: rows, k: inWidth,
                a: x, lda: inWidth,
                b: tile, ldb: inWidth, transposeB: true,
                beta: 1, c: y + block, ldc: outWidth)
            block += rows
        }
    }
}
