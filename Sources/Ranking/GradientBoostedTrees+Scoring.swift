import SearchCore

extension GradientBoostedTrees {
    /// LightGBM's `kZeroThreshold`: a `float` literal 1e-35f, compared in double.
    @usableFromInline static let zeroThreshold = Double(Float(1e-35))

    /// Writes each row's raw scores (the sum of its trees' leaf values, in
    /// tree order, as LightGBM sums them) into `output`: what
    /// `Booster.predict(X, raw_score=True)` returns, which for a random-forest
    /// model is the sum, not yet averaged.
    ///
    /// - Parameters:
    ///   - rows: `rowCount × featureCount` features, row after row.
    ///   - output: room for `rowCount × outputCount` scores, row after row.
    /// - Throws: ``SearchError/Code/dimensionMismatch`` when `rows` is not a
    ///   whole number of rows or `output` has the wrong size.
    /// - Complexity: O(rows × Σ tree depth); allocates nothing per row.
    public func rawScores(_ rows: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>)
        throws(SearchError)
    {
        let rowCount = try checkShapes(rows: rows.count, outputs: output.count)
        guard rowCount > 0, let rowBase = rows.baseAddress, let outBase = output.baseAddress else { return }
        outBase.update(repeating: 0, count: rowCount * outputCount)
        switch hardestKind {
        case _ where !chainNodes.isEmpty: accumulateChained(rowBase, rowCount, outBase)
        case _ where !fastNodes.isEmpty: accumulateFast(rowBase, rowCount, outBase)
        case .numerical: accumulate(NumericalRule.self, rowBase, rowCount, outBase)
        case .numericalZeroMissing: accumulate(ZeroMissingRule.self, rowBase, rowCount, outBase)
        case .categorical: accumulate(AnyNodeRule.self, rowBase, rowCount, outBase)
        }
    }

    /// Writes each row's predictions (raw scores through the objective's
    /// output transform: probabilities for `binary` and `multiclass`) into `output`.
    ///
    /// - Throws: as ``rawScores(_:into:)``.
    public func predict(_ rows: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>)
        throws(SearchError)
    {
        try rawScores(rows, into: output)
        let rowCount = rows.count / featureCount
        if averagesOutput {  // GBDT::Predict divides by the iterations before the transform
            let iterations = Double(iterationCount)
            for i in 0..<(rowCount * outputCount) { output[i] /= iterations }
        }
        for r in 0..<rowCount {
            objective.transform(UnsafeMutableBufferPointer(rebasing: output[(r * outputCount)..<((r + 1) * outputCount)]))
        }
    }

    /// Raw scores for rows laid end to end in an array; `rowCount × outputCount` values.
    public func rawScores(_ rows: [Double]) throws(SearchError) -> [Double] {
        var out = [Double](repeating: 0, count: rows.count / Swift.max(featureCount, 1) * outputCount)
        try rows.withUnsafeBufferPointer { (r) throws(SearchError) in
            try out.withUnsafeMutableBufferPointer { (o) throws(SearchError) in try rawScores(r, into: o) }
        }
        return out
    }

    /// Predictions for rows laid end to end in an array; `rowCount × outputCount` values.
    public func predict(_ rows: [Double]) throws(SearchError) -> [Double] {
        var out = [Double](repeating: 0, count: rows.count / Swift.max(featureCount, 1) * outputCount)
        try rows.withUnsafeBufferPointer { (r) throws(SearchError) in
            try out.withUnsafeMutableBufferPointer { (o) throws(SearchError) in try predict(r, into: o) }
        }
        return out
    }

    private func checkShapes(rows: Int, outputs: Int) throws(SearchError) -> Int {
        guard rows % featureCount == 0 else {
            throw SearchError(.dimensionMismatch,
                "\(rows) features is not a whole number of rows of \(featureCount) (the model's max_feature_idx + 1)")
        }
        let rowCount = rows / featureCount
        guard outputs == rowCount * outputCount else {
            throw SearchError(.dimensionMismatch,
                "output holds \(outputs) scores; \(rowCount) rows × \(outputCount) outputs need \(rowCount * outputCount)")
        }
        return rowCount
    }

    /// Lanes of rows walked through one tree in lockstep, so their dependent
    /// loads overlap instead of waiting on each other.
    @usableFromInline static var lanes: Int { 32 }

    /// Tree by tree (its nodes stay in L1), then block by block of rows: each
    /// block's lanes take exactly `depth` steps, leaves leading to themselves,
    /// so the walk has no data-dependent branch.
    @inline(__always)
    private func accumulate<Rule: DecisionRule>(
        _ rule: Rule.Type, _ rows: UnsafePointer<Double>, _ rowCount: Int, _ out: UnsafeMutablePointer<Double>
    ) {
        let stride = featureCount
        let outputs = outputCount
        nodes.withUnsafeBufferPointer { nodeBuffer in
            leafValues.withUnsafeBufferPointer { valueBuffer in
                categoryBits.withUnsafeBufferPointer { bitBuffer in
                    let nodes = nodeBuffer.baseAddress!
                    let values = valueBuffer.baseAddress!
                    let bits = bitBuffer.baseAddress!
                    withUnsafeTemporaryAllocation(of: Int32.self, capacity: Self.lanes) { lane in
                        let cursor = lane.baseAddress!
                        for tree in trees {
                            var start = 0
                            while start < rowCount {
                                let count = Swift.min(Self.lanes, rowCount - start)
                                let block = rows + start * stride
                                if count == Self.lanes {
                                    walk(Rule.self, nodes, bits, tree, block, stride, Self.lanes, cursor)
                                } else {
                                    walk(Rule.self, nodes, bits, tree, block, stride, count, cursor)
                                }
                                let o = out + start * outputs + Int(tree.output)
                                for l in 0..<count { o[l * outputs] += values[Int(cursor[l])] }
                                start += count
                            }
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    private func walk<Rule: DecisionRule>(
        _ rule: Rule.Type, _ nodes: UnsafePointer<Node>, _ bits: UnsafePointer<UInt32>, _ tree: TreeInfo,
        _ block: UnsafePointer<Double>, _ stride: Int, _ count: Int, _ cursor: UnsafeMutablePointer<Int32>
    ) {
        for l in 0..<count { cursor[l] = tree.root }
        for _ in 0..<tree.depth {
            for l in 0..<count {
                let node = nodes[Int(truncatingIfNeeded: cursor[l])]
                let x = Self.lightGBMInput(block[l &* stride &+ Int(truncatingIfNeeded: node.feature)])
                cursor[l] = Rule.next(node, x, bits)
            }
        }
    }
}

/// How one node decides; one conformance per node population, chosen once per call.
@usableFromInline
protocol DecisionRule {
    static func next(_ node: GradientBoostedTrees.Node, _ x: Double, _ bits: UnsafePointer<UInt32>) -> Int32
}

/// Numerical nodes with missing type None or NaN (NaN's side precomputed), and leaves.
@usableFromInline
enum NumericalRule: DecisionRule {
    @inline(__always) @usableFromInline
    static func next(_ node: GradientBoostedTrees.Node, _ x: Double, _ bits: UnsafePointer<UInt32>) -> Int32 {
        // Branch-free: the comparisons become flags (setcc), the choice a mask,
        // so a mispredicted split costs nothing.
        let greater = unsafeBitCast(x > node.threshold, to: UInt8.self)
        let nan = unsafeBitCast(x.isNaN, to: UInt8.self)
        return pick(node, greater | (nan & node.nanRight))
    }
}

/// `node.right` when `right` is 1, `node.left` when 0, without a branch.
@inline(__always) @usableFromInline
func pick(_ node: GradientBoostedTrees.Node, _ right: UInt8) -> Int32 {
    let mask = 0 &- Int32(truncatingIfNeeded: right)
    return node.left ^ ((node.left ^ node.right) & mask)
}

/// Adds the Zero missing type: |x| ≤ 1e-35 goes to the default side.
@usableFromInline
enum ZeroMissingRule: DecisionRule {
    @inline(__always) @usableFromInline
    static func next(_ node: GradientBoostedTrees.Node, _ x: Double, _ bits: UnsafePointer<UInt32>) -> Int32 {
        let greater = unsafeBitCast(x > node.threshold, to: UInt8.self)
        let nan = unsafeBitCast(x.isNaN, to: UInt8.self)
        let plain = greater | (nan & node.nanRight)
        let zeroKind = unsafeBitCast(node.kind == .numericalZeroMissing, to: UInt8.self)
        let isZero = unsafeBitCast(abs(x) <= GradientBoostedTrees.zeroThreshold, to: UInt8.self) & zeroKind
        // isZero is 0 or 1: take zeroRight when set, the plain decision otherwise.
        let choice = (isZero & node.zeroRight) | ((isZero ^ 1) & plain)
        return pick(node, choice)
    }
}

/// Every node kind, categorical bitsets included.
@usableFromInline
enum AnyNodeRule: DecisionRule {
    @inline(__always) @usableFromInline
    static func next(_ node: GradientBoostedTrees.Node, _ x: Double, _ bits: UnsafePointer<UInt32>) -> Int32 {
        guard node.kind == .categorical else { return ZeroMissingRule.next(node, x, bits) }
        // LightGBM: NaN goes right; static_cast<int> truncates toward zero, and a
        // negative (or, on x86, an out-of-range) result goes right.
        guard !x.isNaN else { return node.right }
        let truncated = x.rounded(.towardZero)
        guard truncated >= 0, truncated < 2_147_483_648 else { return node.right }
        let category = Int(truncated)
        let word = category >> 5
        guard word < Int(node.categoryWords) else { return node.right }
        let set = (bits[Int(node.categoryStart) + word] >> UInt32(category & 31)) & 1
        return set != 0 ? node.left : node.right
    }
}
