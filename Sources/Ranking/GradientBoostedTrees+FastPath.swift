/// The lockstep path for multi-output models (categorical splits expanded
/// into numerical searches first): no NaN or zero test and no branch per node.
///
/// Rows are widened as `GradientBoostedTrees+Widening.swift` describes; the
/// paragraph below is the two-copy case.
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
/// Nodes are 16 bytes: the threshold, then 16-bit column, left and right
/// child indices relative to the tree's first node. The comparison's bit
/// indexes the children, so the next node comes from a load, never a branch
/// or a select the compiler could turn back into one. A leaf has threshold
/// −∞ and itself as both children: a lane that has reached its leaf stays
/// there while the others finish. A step is: load the node, load the
/// feature, compare, load the child.
extension GradientBoostedTrees {
    /// A node of the fast path: 16 bytes, children indexed by the comparison's bit.
    @usableFromInline
    struct FastNode: Sendable {
        /// The threshold; −∞ for a leaf.
        @usableFromInline var threshold: Double
        /// The column in the widened row.
        @usableFromInline var column: UInt16
        /// Left then right child, relative to the tree's first node (a leaf: itself, twice).
        @usableFromInline var left: UInt16
        @usableFromInline var right: UInt16
        @usableFromInline var padding: UInt16 = 0
    }

    /// Re-lays every tree with tree-relative 16-bit indices, categorical
    /// splits expanded into numerical searches
    /// (`GradientBoostedTrees+CategoricalExpansion.swift`); returns the nodes,
    /// leaf values, each tree's first node and each tree's depth after
    /// expansion, or nil when a tree grows past 65,535 nodes or the widened
    /// row past 65,535 columns.
    static func fastLayout(
        _ nodes: [Node], values: [Double], trees: [TreeInfo], featureCount: Int, categoryBits: [UInt32]
    ) -> ([FastNode], [Double], [Int32], [Int32])? {
        guard 4 * featureCount <= Int(UInt16.max) else { return nil }
        var out: [FastNode] = []
        var outValues: [Double] = []
        var roots: [Int32] = []
        var depths: [Int32] = []
        out.reserveCapacity(nodes.count)
        outValues.reserveCapacity(nodes.count)
        for tree in trees {
            let first = out.count
            roots.append(Int32(first))
            var local: [Int32: Int] = [:]  // old node → local index
            var patches: [(slot: Int, isRight: Bool, old: Int32)] = []
            var work: [Int32] = [tree.root]
            func append(_ node: FastNode, _ value: Double) -> Int? {
                guard out.count - first <= Int(UInt16.max) else { return nil }
                out.append(node)
                outValues.append(value)
                return out.count - 1 - first
            }
            while let old = work.popLast() {
                guard local[old] == nil else { continue }
                let n = nodes[Int(old)]
                if n.left == old && n.right == old {
                    let index = out.count - first
                    guard append(FastNode(threshold: -.infinity, column: 0, left: UInt16(truncatingIfNeeded: index),
                                          right: UInt16(truncatingIfNeeded: index)), values[Int(old)]) != nil
                    else { return nil }
                    local[old] = index
                    continue
                }
                if n.kind == .categorical {
                    let start = Int(n.categoryStart)
                    guard let search = categoricalSearch(categoryBits[start..<(start + Int(n.categoryWords))])
                    else { return nil }
                    let base = out.count - first
                    let column = UInt16(featureCount + Int(n.feature))  // copy 1: NaN is +∞
                    for step in search {
                        switch step {
                        case .test(let threshold, let below, let above):
                            guard append(FastNode(threshold: threshold, column: column,
                                                  left: UInt16(truncatingIfNeeded: base + below),
                                                  right: UInt16(truncatingIfNeeded: base + above)), 0) != nil
                            else { return nil }
                        case .exit:
                            guard append(FastNode(threshold: 0, column: 0, left: 0, right: 0), 0) != nil else { return nil }
                        }
                    }
                    // Exits are placeholders: every edge into one is redirected to the split's child.
                    for (k, step) in search.enumerated() {
                        guard case .test(_, let below, let above) = step else { continue }
                        for (target, isRight) in [(below, false), (above, true)] {
                            if case .exit(let right) = search[target] {
                                patches.append((first + base + k, isRight, right ? n.right : n.left))
                            }
                        }
                    }
                    local[old] = base
                } else {
                    let column = widenedCopy(of: n) * featureCount + Int(n.feature)
                    let threshold = n.threshold == .infinity ? Double.greatestFiniteMagnitude : n.threshold
                    guard let index = append(FastNode(threshold: threshold, column: UInt16(column), left: 0, right: 0), 0)
                    else { return nil }
                    local[old] = index
                    patches.append((first + index, false, n.left))
                    patches.append((first + index, true, n.right))
                }
                work.append(n.right)
                work.append(n.left)
            }
            for patch in patches {
                let target = UInt16(truncatingIfNeeded: local[patch.old]!)
                if patch.isRight { out[patch.slot].right = target } else { out[patch.slot].left = target }
            }
            // Depth after expansion: the longest path from the root to a leaf.
            var depth = [Int32](repeating: -1, count: out.count - first)
            func longest(_ i: Int) -> Int32 {
                if depth[i] >= 0 { return depth[i] }
                let n = out[first + i]
                if n.threshold == -.infinity && Int(n.left) == i && Int(n.right) == i { depth[i] = 0; return 0 }
                let d = 1 + max(longest(Int(n.left)), longest(Int(n.right)))
                depth[i] = d
                return d
            }
            depths.append(longest(0))
        }
        return (out, outValues, roots, depths)
    }

    /// Rows in blocks of ``lanes``: widen the block (it stays in L1), then run
    /// every tree over it in order, each lane taking exactly the tree's depth
    /// in steps. Scores accumulate per row in tree order, as LightGBM sums.
    func accumulateFast(_ rows: UnsafePointer<Double>, _ rowCount: Int, _ out: UnsafeMutablePointer<Double>) {
        let features = featureCount
        let copies = widenedCopies
        let width = copies * features
        let lanes = Self.lanes
        let outputs = outputCount
        precondition(MemoryLayout<FastNode>.stride == 16, "the fast path assumes 16-byte nodes")
        fastNodes.withUnsafeBytes { nodeBytes in
            fastValues.withUnsafeBufferPointer { valueBuffer in
              trees.withUnsafeBufferPointer { treeBuffer in
                fastRoots.withUnsafeBufferPointer { rootBuffer in
                fastDepths.withUnsafeBufferPointer { depthBuffer in
                withUnsafeTemporaryAllocation(of: Double.self, capacity: lanes * width) { wide in
                    withUnsafeTemporaryAllocation(of: UInt16.self, capacity: lanes) { lane in
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
                                    target[f] = Self.widened(x, copy: 0)
                                    target[features + f] = Self.widened(x, copy: 1)
                                    if copies == 4 {
                                        target[2 * features + f] = Self.widened(x, copy: 2)
                                        target[3 * features + f] = Self.widened(x, copy: 3)
                                    }
                                }
                            }
                            let o = out + start * outputs
                            for t in 0..<treeBuffer.count {
                                let tree = treeBuffer[t]
                                let first = Int(rootBuffer[t])
                                let treeBase = base + first &<< 4
                                for l in 0..<count { cursor[l] = 0 }
                                if count == lanes {
                                    // A constant lane count: unrolled, with constant row offsets.
                                    Self.walk(treeBase, block, width, Self.lanes, Int(depthBuffer[t]), cursor)
                                } else {
                                    Self.walk(treeBase, block, width, count, Int(depthBuffer[t]), cursor)
                                }
                                let column = Int(tree.output)
                                let leafValues = values + first
                                for l in 0..<count {
                                    o[l &* outputs &+ column] += leafValues[Int(truncatingIfNeeded: cursor[l])]
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
    }

    /// `depth` steps of `count` lanes through one tree.
    @inline(__always)
    static func walk(
        _ treeBase: UnsafeRawPointer, _ block: UnsafePointer<Double>, _ width: Int, _ count: Int, _ depth: Int,
        _ cursor: UnsafeMutablePointer<UInt16>
    ) {
        for _ in 0..<depth {
            for l in 0..<count {
                let node = treeBase + Int(truncatingIfNeeded: cursor[l]) &<< 4
                let threshold = node.load(as: Double.self)
                let column = node.load(fromByteOffset: 8, as: UInt16.self)
                let x = block[l &* width &+ Int(truncatingIfNeeded: column)]
                let bit = Int(unsafeBitCast(x > threshold, to: UInt8.self))
                cursor[l] = node.load(fromByteOffset: 10 &+ 2 &* bit, as: UInt16.self)
            }
        }
    }
}
