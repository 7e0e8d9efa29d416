/// The chained path for single-output models of plain numerical splits: a
/// row walks all its trees as one path, and leaves are not nodes at all.
///
/// Each internal node stores, for each side, the value to add on taking it
/// (the leaf's value when that child is a leaf, else 0) and where to go (the
/// child, or — after a leaf — the next tree's root; after the last tree, a
/// sink that leads to itself). A lane adds the edge value at every step, so
/// its sum is the trees' leaf values added in tree order, exactly LightGBM's
/// raw score (adding 0 changes nothing). A row takes Σ path lengths steps,
/// not Σ tree depths: leaf-wise trees are lopsided, and on LightGBM's default
/// 31-leaf trees that is nearly half the steps. Children and columns are
/// stored as byte offsets, so a step does no address arithmetic: load the
/// column, load the feature, compare, load the edge's value and target.
///
/// Eight rows go at a time, each lane's cursor and sum in registers. Rows
/// are widened as in the fast path (see `GradientBoostedTrees+FastPath.swift`),
/// feature-major so a lane's feature is a constant offset from its column.
extension GradientBoostedTrees {
    /// A node of the chained path: 40 bytes.
    @usableFromInline
    struct ChainNode: Sendable {
        /// The threshold; −∞ for the sink and single-leaf trees (always right).
        @usableFromInline var threshold: Double
        /// Value added on going left, then right.
        @usableFromInline var leftValue: Double
        @usableFromInline var rightValue: Double
        /// Byte offset of the column in the feature-major widened block (column × 64).
        @usableFromInline var columnOffset: UInt32
        /// Byte offsets of the left and right targets.
        @usableFromInline var left: UInt32
        @usableFromInline var right: UInt32
        @usableFromInline var padding: UInt32 = 0
    }

    /// Chains the fast layout's trees; returns the nodes and the byte offset of the sink.
    static func chainLayout(_ fast: [FastNode], values: [Double], roots: [Int32]) -> (nodes: [ChainNode], sink: UInt32)? {
        let stride = MemoryLayout<ChainNode>.stride
        // First pass: where each tree's first chained node goes.
        var firsts: [Int] = []
        var total = 0
        for (t, first) in roots.enumerated() {
            let end = t + 1 < roots.count ? Int(roots[t + 1]) : fast.count
            firsts.append(total)
            let internalNodes = fast[Int(first)..<end].filter { $0.threshold != -.infinity }.count
            total += max(internalNodes, 1)
        }
        guard (total + 1) * stride < Int(UInt32.max) else { return nil }
        let sink = total
        var out: [ChainNode] = []
        out.reserveCapacity(total + 1)
        for (t, first) in roots.enumerated() {
            let start = Int(first)
            let end = t + 1 < roots.count ? Int(roots[t + 1]) : fast.count
            let next = UInt32((t + 1 < roots.count ? firsts[t + 1] : sink) * stride)
            if end - start == 1 {  // a single leaf: one always-right node carrying its value
                out.append(ChainNode(threshold: -.infinity, leftValue: 0, rightValue: values[start],
                                     columnOffset: 0, left: next, right: next))
                continue
            }
            // Chained index of each internal node of this tree, in pre-order.
            var index = [Int](repeating: -1, count: end - start)
            var k = firsts[t]
            for i in start..<end where fast[i].threshold != -.infinity {
                index[i - start] = k
                k += 1
            }
            func edge(_ local: UInt16) -> (Double, UInt32) {
                let i = start + Int(local)
                return fast[i].threshold == -.infinity ? (values[i], next) : (0, UInt32(index[Int(local)] * stride))
            }
            for i in start..<end where fast[i].threshold != -.infinity {
                let n = fast[i]
                let (lv, lt) = edge(n.left)
                let (rv, rt) = edge(n.right)
                out.append(ChainNode(threshold: n.threshold, leftValue: lv, rightValue: rv,
                                     columnOffset: UInt32(n.column) * 64, left: lt, right: rt))
            }
        }
        let sinkOffset = UInt32(sink * stride)
        out.append(ChainNode(threshold: -.infinity, leftValue: 0, rightValue: 0, columnOffset: 0,
                             left: sinkOffset, right: sinkOffset))
        return (out, sinkOffset)
    }

    /// Raw scores of a single-output model through the chained layout.
    func accumulateChained(_ rows: UnsafePointer<Double>, _ rowCount: Int, _ out: UnsafeMutablePointer<Double>) {
        let features = featureCount
        precondition(MemoryLayout<ChainNode>.stride == 40, "the chained path assumes 40-byte nodes")
        let sink = chainSink
        chainNodes.withUnsafeBytes { nodeBytes in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 8 * 2 * features) { wide in
                withUnsafeTemporaryAllocation(of: Double.self, capacity: 8) { sums in
                    let base = nodeBytes.baseAddress!
                    let block = wide.baseAddress!
                    var first = 0
                    while first < rowCount {
                        let count = Swift.min(8, rowCount - first)
                        // Unused lanes repeat the last row; their sums are dropped.
                        for l in 0..<8 {
                            let row = rows + (first + Swift.min(l, count - 1)) * features
                            for f in 0..<features {
                                let x = row[f]
                                let clamped = Swift.min(Swift.max(x, -.greatestFiniteMagnitude), .greatestFiniteMagnitude)
                                block[f &<< 3 &+ l] = x.isNaN ? -.greatestFiniteMagnitude : clamped
                                block[(features &+ f) &<< 3 &+ l] = x.isNaN ? .infinity : clamped
                            }
                        }
                        Self.chain8(base, UnsafeRawPointer(block), sink, sums.baseAddress!)
                        for l in 0..<count { out[first + l] = sums[l] }
                        first += count
                    }
                }
            }
        }
    }

    /// Walks eight lanes from the first node to the sink; their sums into `sums`.
    @inline(__always)
    static func chain8(
        _ base: UnsafeRawPointer, _ block: UnsafeRawPointer, _ sink: UInt32, _ sums: UnsafeMutablePointer<Double>
    ) {
        var c0: UInt32 = 0, c1: UInt32 = 0, c2: UInt32 = 0, c3: UInt32 = 0
        var c4: UInt32 = 0, c5: UInt32 = 0, c6: UInt32 = 0, c7: UInt32 = 0
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, s4 = 0.0, s5 = 0.0, s6 = 0.0, s7 = 0.0
        repeat {
            for _ in 0..<8 {
                chainStep(base, block, 0, &c0, &s0)
                chainStep(base, block, 8, &c1, &s1)
                chainStep(base, block, 16, &c2, &s2)
                chainStep(base, block, 24, &c3, &s3)
                chainStep(base, block, 32, &c4, &s4)
                chainStep(base, block, 40, &c5, &s5)
                chainStep(base, block, 48, &c6, &s6)
                chainStep(base, block, 56, &c7, &s7)
            }
            // All eight equal the sink exactly when their AND and OR both do.
        } while (c0 & c1 & c2 & c3 & c4 & c5 & c6 & c7) != sink || (c0 | c1 | c2 | c3 | c4 | c5 | c6 | c7) != sink
        sums[0] = s0
        sums[1] = s1
        sums[2] = s2
        sums[3] = s3
        sums[4] = s4
        sums[5] = s5
        sums[6] = s6
        sums[7] = s7
    }

    /// One step of one lane: compare, add the edge's value, follow the edge.
    @inline(__always)
    static func chainStep(
        _ base: UnsafeRawPointer, _ block: UnsafeRawPointer, _ laneOffset: Int, _ c: inout UInt32, _ s: inout Double
    ) {
        let node = base + Int(c)
        let threshold = node.load(as: Double.self)
        let column = node.load(fromByteOffset: 24, as: UInt32.self)
        let x = block.load(fromByteOffset: Int(column) &+ laneOffset, as: Double.self)
        let bit = Int(unsafeBitCast(x > threshold, to: UInt8.self))
        s += node.load(fromByteOffset: 8 &+ 8 &* bit, as: Double.self)
        c = node.load(fromByteOffset: 28 &+ 4 &* bit, as: UInt32.self)
    }
}
