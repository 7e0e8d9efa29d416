/// The fast path for models whose splits are all numerical with missing type
/// None or NaN (LightGBM's default): no NaN test and no branch per node.
///
/// Each row is widened once per block into two copies of its features: in
/// columns `0..<F` NaN becomes −∞, in columns `F..<2F` it becomes +∞. A node
/// whose NaN goes right reads the +∞ copy, one whose NaN goes left the −∞
/// copy, so `x > threshold` alone decides every value, NaN included, exactly
/// as `Tree::NumericalDecision` does (thresholds are finite; a real ±∞ reads
/// the same in both copies). A step is then: load the node, load the
/// feature, compare, load `children[bit]`.
extension GradientBoostedTrees {
    /// A node of the fast path: 24 bytes, children adjacent so the comparison's
    /// bit indexes them.
    @usableFromInline
    struct FastNode: Sendable {
        /// The threshold; +∞ for a leaf (every value goes "left", to itself).
        @usableFromInline var threshold: Double
        /// The column in the widened row.
        @usableFromInline var column: Int32
        /// Left then right child, global indices.
        @usableFromInline var left: Int32
        @usableFromInline var right: Int32
    }

    static func fastLayout(_ nodes: [Node], featureCount: Int) -> [FastNode] {
        nodes.map { n in
            FastNode(
                threshold: n.threshold, column: n.nanRight != 0 ? Int32(featureCount) + n.feature : n.feature,
                left: n.left, right: n.right)
        }
    }

    /// Rows in blocks of ``lanes``: widen the block (it stays in L1), then run
    /// every tree over it in order, each lane taking exactly the tree's depth
    /// in steps. Scores accumulate per row in tree order, as LightGBM sums.
    func accumulateFast(_ rows: UnsafePointer<Double>, _ rowCount: Int, _ out: UnsafeMutablePointer<Double>) {
        let features = featureCount
        let width = 2 * features
        let lanes = Self.lanes
        let outputs = outputCount
        let stride = MemoryLayout<FastNode>.stride
        let leftOffset = MemoryLayout<FastNode>.offset(of: \FastNode.left)!
        fastNodes.withUnsafeBytes { nodeBytes in
            leafValues.withUnsafeBufferPointer { valueBuffer in
                trees.withUnsafeBufferPointer { treeBuffer in
                    withUnsafeTemporaryAllocation(of: Double.self, capacity: lanes * width) { wide in
                        withUnsafeTemporaryAllocation(of: Int32.self, capacity: lanes) { lane in
                            let base = nodeBytes.baseAddress!
                            let values = valueBuffer.baseAddress!
                            let block = wide.baseAddress!
                            let cursor = lane.baseAddress!
                            var start = 0
                            while start < rowCount {
                                let count = Swift.min(lanes, rowCount - start)
                                for l in 0..<count {
                                    let source = rows + (start + l) * features
                                    let target = block + l * width
                                    for f in 0..<features {
                                        let x = source[f]
                                        let nan = x.isNaN
                                        target[f] = nan ? -.infinity : x
                                        target[features + f] = nan ? .infinity : x
                                    }
                                }
                                let o = out + start * outputs
                                for tree in treeBuffer {
                                    let root = tree.root
                                    for l in 0..<count { cursor[l] = root }
                                    for _ in 0..<tree.depth {
                                        for l in 0..<count {
                                            let node = base + Int(truncatingIfNeeded: cursor[l]) &* stride
                                            let threshold = node.load(as: Double.self)
                                            let column = node.load(
                                                fromByteOffset: MemoryLayout<Double>.size, as: Int32.self)
                                            let x = block[l &* width &+ Int(truncatingIfNeeded: column)]
                                            let bit = Int(unsafeBitCast(x > threshold, to: UInt8.self))
                                            cursor[l] = node.load(fromByteOffset: leftOffset &+ 4 &* bit, as: Int32.self)
                                        }
                                    }
                                    let column = Int(tree.output)
                                    for l in 0..<count {
                                        o[l &* outputs &+ column] += values[Int(truncatingIfNeeded: cursor[l])]
                                    }
                                }
                                start += count
                            }
                        }
                    }
                }
            }
        }
    }
}
