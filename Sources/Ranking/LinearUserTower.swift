import Foundation
import SearchCore

/// A learned linear user tower: u = normalise(W · x), mapping a user's input
/// vector x (their pooled history from ``UserVectorPooling``, or any host
/// features) into the item embedding space, where the item tower is the
/// catalogue's own embeddings.
///
/// Trained with the in-batch sampled softmax of two-tower retrieval (Yi et
/// al. 2019, "Sampling-bias-corrected neural modeling for large corpus item
/// recommendations"): in a batch of (user, engaged item) pairs, each user's
/// item is the positive and the other users' items are the negatives; the
/// loss is the cross-entropy of softmax(cos(u, e) / τ − log qₑ), with qₑ the
/// item's frequency among positives (the paper's sampling-bias correction).
/// W starts at the identity
/// (when the dimensions agree), so an untrained tower is plain pooling.
public struct LinearUserTower: Sendable, Hashable {
    /// Input components.
    public let inputDimension: Int
    /// Output components (the item embedding dimension).
    public let outputDimension: Int
    /// W, row-major, `outputDimension × inputDimension`.
    public var weights: [Float]

    /// A tower; identity when the dimensions agree, else zeros with ones on the diagonal.
    public init(inputDimension: Int, outputDimension: Int) {
        precondition(inputDimension > 0 && outputDimension > 0, "tower dimensions must be positive")
        self.inputDimension = inputDimension
        self.outputDimension = outputDimension
        var w = [Float](repeating: 0, count: inputDimension * outputDimension)
        for i in 0..<min(inputDimension, outputDimension) { w[i * inputDimension + i] = 1 }
        weights = w
    }

    /// The user embedding for `input`, unit length (zero stays zero).
    ///
    /// - Throws: ``SearchError/Code/dimensionMismatch`` for a wrong input length.
    public func embed(_ input: [Float]) throws(SearchError) -> [Float] {
        try SearchError.checkDimension(input.count, expected: inputDimension, "user tower input")
        var out = [Float](repeating: 0, count: outputDimension)
        var norm: Float = 0
        for o in 0..<outputDimension {
            var s: Float = 0
            for i in 0..<inputDimension { s += weights[o * inputDimension + i] * input[i] }
            out[o] = s
            norm += s * s
        }
        guard norm > 0 else { return out }
        let inverse = 1 / norm.squareRoot()
        return out.map { $0 * inverse }
    }

    /// Training knobs.
    public struct TrainingOptions: Sendable, Hashable {
        /// Passes over the examples. Default 8.
        public var epochs = 8
        /// Pairs per batch: each has `batchSize − 1` in-batch negatives. Default 128.
        public var batchSize = 128
        /// Adam's step size (Kingma & Ba 2015). Default 0.01.
        public var learningRate: Float = 0.01
        /// τ, the softmax temperature. Default 0.1.
        public var temperature: Float = 0.1
        /// L2 pull of W toward its initial value. Default 1e-4.
        public var l2: Float = 1e-4
        /// Seed for the shuffles.
        public var seed: UInt64 = 1

        /// The defaults.
        public init() {}
    }

    /// Trains W on (input, engaged item) pairs; returns the tower and the mean loss of each epoch.
    ///
    /// The loss scores with the normalised user vector, as ``embed(_:)`` and
    /// retrieval do: logits are cos(u, e) / τ for unit item embeddings e.
    ///
    /// - Throws: ``SearchError/Code/invalidArgument`` for no examples, a
    ///   batch size below 2, or an item without an embedding;
    ///   ``SearchError/Code/dimensionMismatch`` for a wrong input length.
    public static func train(
        examples: [(input: [Float], positive: VectorID)], items: EmbeddingTable, options: TrainingOptions = .init()
    ) throws(SearchError) -> (tower: LinearUserTower, epochLosses: [Double]) {
        guard !examples.isEmpty, options.batchSize >= 2, options.epochs > 0, options.temperature > 0 else {
            throw SearchError(.invalidArgument, "tower training needs examples, batchSize ≥ 2, epochs > 0 and τ > 0")
        }
        let din = examples[0].input.count
        let d = items.dimension
        var rows: [Int] = []
        for (k, e) in examples.enumerated() {
            try SearchError.checkDimension(e.input.count, expected: din, "user tower input of example \(k)")
            guard let r = items.row(of: e.positive) else {
                throw SearchError(.invalidArgument, "example \(k)'s item \(e.positive) has no embedding")
            }
            rows.append(r)
        }
        // logQ correction (Yi et al. 2019): an item's chance of being an
        // in-batch negative is its frequency among positives; subtracting its
        // log from the logit removes the resulting bias against popular items.
        var frequency: [Int: Float] = [:]
        for r in rows { frequency[r, default: 0] += 1 }
        let logQ = rows.map { log(frequency[$0]! / Float(rows.count)) }
        var tower = LinearUserTower(inputDimension: din, outputDimension: d)
        let initial = tower.weights
        var m = [Float](repeating: 0, count: initial.count)
        var v = [Float](repeating: 0, count: initial.count)
        var step: Float = 0
        let (b1, b2, eps): (Float, Float, Float) = (0.9, 0.999, 1e-8)
        var rng = SeededGenerator(seed: options.seed)
        var order = Array(examples.indices)
        var losses: [Double] = []
        let inverseT = 1 / options.temperature
        for _ in 0..<options.epochs {
            for i in stride(from: order.count - 1, to: 0, by: -1) {
                order.swapAt(i, Int(rng.next() % UInt64(i + 1)))
            }
            var epochLoss = 0.0
            var batches = 0
            var start = 0
            while start + 1 < order.count {
                let batch = Array(order[start..<min(start + options.batchSize, order.count)])
                start += options.batchSize
                let b = batch.count
                // U = X Wᵀ (b × d); E = positives (b × d); logits = U Eᵀ / τ.
                var u = [Float](repeating: 0, count: b * d)
                var norms = [Float](repeating: 1, count: b)
                for (k, ex) in batch.enumerated() {
                    let x = examples[ex].input
                    var n: Float = 0
                    for o in 0..<d {
                        var s: Float = 0
                        for i in 0..<din { s += tower.weights[o * din + i] * x[i] }
                        u[k * d + o] = s
                        n += s * s
                    }
                    norms[k] = max(n.squareRoot(), 1e-12)
                    for o in 0..<d { u[k * d + o] /= norms[k] }
                }
                var gradU = [Float](repeating: 0, count: b * d)
                var batchLoss = 0.0
                items.values.withUnsafeBufferPointer { e in
                    var logits = [Float](repeating: 0, count: b)
                    for k in 0..<b {
                        var largest = -Float.infinity
                        for j in 0..<b {
                            var s: Float = 0
                            let er = rows[batch[j]] * d
                            for o in 0..<d { s += u[k * d + o] * e[er + o] }
                            logits[j] = s * inverseT - logQ[batch[j]]
                            largest = max(largest, logits[j])
                        }
                        var sum: Float = 0
                        for j in 0..<b {
                            logits[j] = exp(logits[j] - largest)
                            sum += logits[j]
                        }
                        batchLoss -= Double(log(logits[k] / sum))
                        // dLoss/dU_k = Σ_j (p_j − [j = k]) E_j / τ, averaged over the batch.
                        for j in 0..<b {
                            let g = (logits[j] / sum - (j == k ? 1 : 0)) * inverseT / Float(b)
                            let er = rows[batch[j]] * d
                            for o in 0..<d { gradU[k * d + o] += g * e[er + o] }
                        }
                    }
                }
                // Back through the normalisation: d/du_raw = (g − (g·û) û) / ‖u_raw‖.
                for k in 0..<b {
                    var along: Float = 0
                    for o in 0..<d { along += gradU[k * d + o] * u[k * d + o] }
                    for o in 0..<d { gradU[k * d + o] = (gradU[k * d + o] - along * u[k * d + o]) / norms[k] }
                }
                // dW = dUᵀ X + λ (W − W₀), then an Adam step.
                step += 1
                let c1 = 1 - pow(b1, step), c2 = 1 - pow(b2, step)
                for o in 0..<d {
                    for i in 0..<din {
                        var g: Float = options.l2 * (tower.weights[o * din + i] - initial[o * din + i])
                        for (k, ex) in batch.enumerated() { g += gradU[k * d + o] * examples[ex].input[i] }
                        let w = o * din + i
                        m[w] = b1 * m[w] + (1 - b1) * g
                        v[w] = b2 * v[w] + (1 - b2) * g * g
                        tower.weights[w] -= options.learningRate * (m[w] / c1) / ((v[w] / c2).squareRoot() + eps)
                    }
                }
                epochLoss += batchLoss / Double(b)
                batches += 1
            }
            losses.append(epochLoss / Double(max(batches, 1)))
        }
        return (tower, losses)
    }
}

extension LinearUserTower {
    /// The mean in-batch softmax cross-entropy of consecutive batches of
    /// `examples` (no shuffling, no logQ correction): how well the tower picks
    /// each user's item out of the batch's items. Lower is better; chance is
    /// log(batchSize).
    ///
    /// - Throws: as ``train(examples:items:options:)`` for bad examples.
    public func inBatchLoss(
        examples: [(input: [Float], positive: VectorID)], items: EmbeddingTable, batchSize: Int = 128,
        temperature: Float = 0.1
    ) throws(SearchError) -> Double {
        guard !examples.isEmpty, batchSize >= 2, temperature > 0 else {
            throw SearchError(.invalidArgument, "evaluation needs examples, batchSize ≥ 2 and τ > 0")
        }
        var users: [[Float]] = []
        var rows: [Int] = []
        for (k, e) in examples.enumerated() {
            users.append(try embed(e.input))
            guard let r = items.row(of: e.positive) else {
                throw SearchError(.invalidArgument, "example \(k)'s item \(e.positive) has no embedding")
            }
            rows.append(r)
        }
        let d = items.dimension
        var total = 0.0
        var batches = 0
        var start = 0
        while start + 1 < examples.count {
            let end = min(start + batchSize, examples.count)
            var loss = 0.0
            for k in start..<end {
                var logits: [Double] = []
                for j in start..<end {
                    var s: Float = 0
                    for o in 0..<d { s += users[k][o] * items.values[rows[j] * d + o] }
                    logits.append(Double(s / temperature))
                }
                let largest = logits.max()!
                let sum = logits.reduce(0) { $0 + exp($1 - largest) }
                loss -= logits[k - start] - largest - log(sum)
            }
            total += loss / Double(end - start)
            batches += 1
            start = end
        }
        return total / Double(max(batches, 1))
    }
}
