/// The fast path for models whose splits are all numerical with missing type
/// None or NaN (LightGBM's default): no NaN test and no branch per node.
///
/// Each row is widened once per block into two copies of its features, ±∞
/// clamped to ±M (M = `Double.greatestFiniteMagnitude`): in columns `0..<F`
/// NaN becomes −M, in columns `F..<2F` NaN becomes +∞. A threshold of +∞
/// (LightGBM's "everything but NaN" split) becomes M. A node whose NaN goes
/// right reads the second copy, one whose NaN goes left the first, so
/// `x > threshold` alone decides every value, NaN and ±∞ included, exactly as
/// `Tree::NumericalDecision` does. That holds when every threshold is +∞ or
/// strictly between −M and M; a model with another threshold takes the
/// general path.
///
/// Nodes are 16 bytes, laid out in pre-order so a left child is always the
/// next node and only the right child is stored. A leaf has threshold −∞ and
/// itself as right child: every widened value is greater, so a lane that has
/// reached its leaf stays there while the others finish. A step is: load the
/// node, load the feature, compare, select.
extension GradientBoostedTrees {
    /// A node of the fast path: 16 bytes; the left child is the next node.
    @usableFromInline
    struct FastNode: Sendable {
        /// The threshold; −∞ for a leaf.
        @usableFromInline var threshold: Double
        /// The column in the widened row.
        @usableFromInline var column: Int32
        /// The right child (a leaf: itself).
        @usableFromInline var right: Int32
    }

    /// Re-lays every tree in pre-order; returns the nodes, leaf values and roots.
    static func fastLayout(_ nodes: [Node], values: [Double], trees: [TreeInfo], featureCount: Int)
        -> ([FastNode], [Double], [Int32])
    {
        var out: [FastNode] = []
        var outValues: [Double] = []
        var roots: [Int32] = []
        out.reserveCapacity(nodes.count)
        outValues.reserveCapacity(nodes.count)
        for tree in trees {
            roots.append(Int32(out.count))
            // Iterative pre-order: emit a node, remember where its right child's
            // index must be patched, descend left first.
            var stack: [(old: Int32, parent: Int)] = [(tree.root, -1)]
            while let (old, parent) = stack.popLast() {
                let index = out.count
                if parent >= 0 { out[parent].right = Int32(index) }
                let n = nodes[Int(old)]
                let isLeaf = n.left == old && n.right == old
                if isLeaf {
                    out.append(FastNode(threshold: -.infinity, column: 0, right: Int32(index)))
                    outValues.append(values[Int(old)])
                } else {
                    let column = n.nanRight != 0 ? Int32(featureCount) + n.feature : n.feature
                    let threshold = n.threshold == .infinity ? Double.greatestFiniteMagnitude : n.threshold
                    out.append(FastNode(threshold: threshold, column: column, right: -1))
                    outValues.append(0)
                    stack.append((n.right, index))  // patched when it is emitted
                    stack.append((n.left, -1))  // emitted next: index + 1
                }
            }
        }
        return (out, outValues, roots)
    }

    /// Rows in blocks of ``lanes``: widen the block (it stays in L1), then run
    /// every tree over it in order, each lane taking exactly the tree's depth
    /// in steps. Scores accumulate per row in tree order, as LightGBM sums.
    func accumulateFast(_ rows: UnsafePointer<Double>, _ rowCount: Int, _ out: UnsafeMutablePointer<Double>) {
        let features = featureCount
        let width = 2 * features
        let lanes = Self.lanes
        let outputs = outputCount
        precondition(MemoryLayout<FastNode>.stride == 16, "the fast path assumes 16-byte nodes")
        fastNodes.withUnsafeBytes { nodeBytes in
            fastValues.withUnsafeBufferPointer { valueBuffer in
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
                                    let clamped = Swift.min(Swift.max(x, -.greatestFiniteMagnitude), .greatestFiniteMagnitude)
                                    target[f] = x.isNaN ? -.greatestFiniteMagnitude : clamped
                                    target[features + f] = x.isNaN ? .infinity : clamped
                                }
                            }
                            let o = out + start * outputs
                            for (t, tree) in trees.enumerated() {
                                let root = fastRoots[t]
                                for l in 0..<count { cursor[l] = root }
                                for _ in 0..<tree.depth {
                                    for l in 0..<count {
                                        let c = cursor[l]
                                        let node = base + Int(truncatingIfNeeded: c) &<< 4
                                        let threshold = node.load(as: Double.self)
                                        let column = node.load(fromByteOffset: 8, as: Int32.self)
                                        let right = node.load(fromByteOffset: 12, as: Int32.self)
                                        let x = block[l &* width &+ Int(truncatingIfNeeded: column)]
                                        let mask = 0 &- Int32(truncatingIfNeeded: unsafeBitCast(x > threshold, to: UInt8.self))
                                        let left = c &+ 1
                                        cursor[l] = left ^ ((left ^ right) & mask)
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
