/// The chained path for single-output models of numerical splits: a
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
/// feature, compare, load the edge's value and target.
///
/// Twelve rows go at a time, each lane's cursor and sum in registers (twelve
/// measured faster than eight or sixteen on x86-64: enough independent
/// chains to hide load latency, few enough to stay mostly in registers). Rows
/// are widened as in the fast path (see `GradientBoostedTrees+FastPath.swift`),
/// feature-major so a lane's feature is a constant offset from its column.
extension GradientBoostedTrees {
    /// A node of the chained path: 40 bytes.
    ///
    /// Each edge packs the target's byte offset (low 32 bits) with the
    /// target's column offset (high 32 bits), so the feature a lane compares
    /// next is known as soon as it takes the edge: the next feature load does
    /// not wait for a load of the next node.
    @usableFromInline
    struct ChainNode: Sendable {
        /// The threshold; −∞ for the sink and single-leaf trees (always right).
        @usableFromInline var threshold: Double
        /// Value added on going left, then right.
        @usableFromInline var leftValue: Double
        @usableFromInline var rightValue: Double
        /// Left and right edges: target byte offset | target column offset << 32.
        @usableFromInline var left: UInt64
        @usableFromInline var right: UInt64
    }

    /// Chains the fast layout's trees; returns the nodes, the first node's
    /// column offset and the byte offset of the sink.
    static func chainLayout(_ fast: [FastNode], values: [Double], roots: [Int32])
        -> (nodes: [ChainNode], firstColumn: UInt32, sink: UInt32)?
    {
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
        // Column offset (column × 12 lanes × 8 bytes in the feature-major block) of each chained node's split.
        var columns = [UInt32](repeating: 0, count: total + 1)
        var plain: [(threshold: Double, left: (Double, Int), right: (Double, Int))] = []
        plain.reserveCapacity(total)
        for (t, first) in roots.enumerated() {
            let start = Int(first)
            let end = t + 1 < roots.count ? Int(roots[t + 1]) : fast.count
            let next = t + 1 < roots.count ? firsts[t + 1] : sink
            if end - start == 1 {  // a single leaf: one always-right node carrying its value
                plain.append((-.infinity, (0, next), (values[start], next)))
                continue
            }
            var index = [Int](repeating: -1, count: end - start)
            var k = firsts[t]
            for i in start..<end where fast[i].threshold != -.infinity {
                index[i - start] = k
                columns[k] = UInt32(fast[i].column) * 96
                k += 1
            }
            func edge(_ local: UInt16) -> (Double, Int) {
                let i = start + Int(local)
                return fast[i].threshold == -.infinity ? (values[i], next) : (0, index[Int(local)])
            }
            for i in start..<end where fast[i].threshold != -.infinity {
                plain.append((fast[i].threshold, edge(fast[i].left), edge(fast[i].right)))
            }
        }
        func packed(_ target: Int) -> UInt64 { UInt64(target * stride) | UInt64(columns[target]) << 32 }
        var out = plain.map { n in
            ChainNode(threshold: n.threshold, leftValue: n.left.0, rightValue: n.right.0,
                      left: packed(n.left.1), right: packed(n.right.1))
        }
        out.append(ChainNode(threshold: -.infinity, leftValue: 0, rightValue: 0, left: packed(sink), right: packed(sink)))
        return (out, columns[0], UInt32(sink * stride))
    }

    /// Raw scores of a single-output model through the chained layout.
    func accumulateChained(_ rows: UnsafePointer<Double>, _ rowCount: Int, _ out: UnsafeMutablePointer<Double>) {
        let features = featureCount
        precondition(MemoryLayout<ChainNode>.stride == 40, "the chained path assumes 40-byte nodes")
        let sink = chainSink
        let firstColumn = chainFirstColumn
        let copies = widenedCopies
        chainNodes.withUnsafeBytes { nodeBytes in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 12 * copies * features) { wide in
                withUnsafeTemporaryAllocation(of: Double.self, capacity: 12) { sums in
                    let base = nodeBytes.baseAddress!
                    let block = wide.baseAddress!
                    var first = 0
                    while first < rowCount {
                        let count = Swift.min(12, rowCount - first)
                        // Unused lanes repeat the last row; their sums are dropped.
                        for l in 0..<12 {
                            let row = rows + (first + Swift.min(l, count - 1)) * features
                            for f in 0..<features {
                                let x = row[f]
                                block[f &* 12 &+ l] = Self.widened(x, copy: 0)
                                block[(features &+ f) &* 12 &+ l] = Self.widened(x, copy: 1)
                                if copies == 4 {
                                    block[(2 &* features &+ f) &* 12 &+ l] = Self.widened(x, copy: 2)
                                    block[(3 &* features &+ f) &* 12 &+ l] = Self.widened(x, copy: 3)
                                }
                            }
                        }
                        Self.chainBlock(base, UnsafeRawPointer(block), firstColumn, sink, sums.baseAddress!)
                        for l in 0..<count { out[first + l] = sums[l] }
                        first += count
                    }
                }
            }
        }
    }

    /// Walks twelve lanes from the first node to the sink; their sums into `sums`.
    @inline(__always)
    static func chainBlock(
        _ base: UnsafeRawPointer, _ block: UnsafeRawPointer, _ firstColumn: UInt32, _ sink: UInt32,
        _ sums: UnsafeMutablePointer<Double>
    ) {
        // Each cursor: node byte offset | column offset << 32.
        let start = UInt64(firstColumn) << 32
        var c0 = start, c1 = start, c2 = start, c3 = start, c4 = start, c5 = start, c6 = start, c7 = start, c8 = start, c9 = start, c10 = start, c11 = start
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, s4 = 0.0, s5 = 0.0, s6 = 0.0, s7 = 0.0, s8 = 0.0, s9 = 0.0, s10 = 0.0, s11 = 0.0
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
                chainStep(base, block, 64, &c8, &s8)
                chainStep(base, block, 72, &c9, &s9)
                chainStep(base, block, 80, &c10, &s10)
                chainStep(base, block, 88, &c11, &s11)
            }
            // All lanes sit on the sink exactly when their offsets' AND and OR both equal it.
            let all = UInt32(truncatingIfNeeded: c0 & c1 & c2 & c3 & c4 & c5 & c6 & c7 & c8 & c9 & c10 & c11)
            let any = UInt32(truncatingIfNeeded: c0 | c1 | c2 | c3 | c4 | c5 | c6 | c7 | c8 | c9 | c10 | c11)
            if all == sink && any == sink { break }
        } while true
        sums[0] = s0
        sums[1] = s1
        sums[2] = s2
        sums[3] = s3
        sums[4] = s4
        sums[5] = s5
        sums[6] = s6
        sums[7] = s7
        sums[8] = s8
        sums[9] = s9
        sums[10] = s10
        sums[11] = s11
    }

    /// One step of one lane: compare, add the edge's value, follow the edge.
    @inline(__always)
    static func chainStep(
        _ base: UnsafeRawPointer, _ block: UnsafeRawPointer, _ laneOffset: Int, _ c: inout UInt64, _ s: inout Double
    ) {
        let node = base + Int(truncatingIfNeeded: c & 0xFFFF_FFFF)
        let x = block.load(fromByteOffset: Int(truncatingIfNeeded: c &>> 32) &+ laneOffset, as: Double.self)
        let threshold = node.load(as: Double.self)
        let bit = Int(unsafeBitCast(x > threshold, to: UInt8.self))
        s += node.load(fromByteOffset: 8 &+ 8 &* bit, as: Double.self)
        c = node.load(fromByteOffset: 24 &+ 8 &* bit, as: UInt64.self)
    }
}
