import SearchCore

extension GradientBoostedTrees {
    /// Loads a model from LightGBM's text format (`Booster.save_model`, `model.txt`).
    ///
    /// The format: a header of `key=value` lines (`num_class`,
    /// `num_tree_per_iteration`, `max_feature_idx`, `objective`,
    /// `feature_names`, optionally `average_output`), then one block per tree
    /// starting `Tree=<n>` with `num_leaves`, `num_cat`, `split_feature`,
    /// `threshold`, `decision_type`, `left_child`, `right_child`, `leaf_value`
    /// and, when `num_cat > 0`, `cat_boundaries` and `cat_threshold`; then
    /// `end of trees` and sections this scorer does not need. A child index
    /// `c < 0` is the leaf `~c`. `decision_type` packs bit 0 = categorical,
    /// bit 1 = default left, bits 2–3 = missing type (0 None, 1 Zero, 2 NaN).
    ///
    /// Everything is checked before it is trusted: array lengths, child and
    /// feature indices, that every node is reached exactly once from the root,
    /// category bitset bounds.
    ///
    /// - Throws: ``SearchError/Code/corruptData`` naming the tree and key for
    ///   a malformed or inconsistent model, ``SearchError/Code/unsupportedFormat``
    ///   for linear trees or an objective this scorer does not know.
    public init(lightGBMText text: String) throws(SearchError) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).makeIterator()
        var header: [Substring: Substring] = [:]
        var pending: Substring? = nil
        while let raw = lines.next() {
            let line = raw.trimmingSuffix("\r")
            if line.hasPrefix("Tree=") || line == "end of trees" { pending = line; break }
            if let eq = line.firstIndex(of: "=") {
                header[line[..<eq]] = line[line.index(after: eq)...]
            } else if !line.isEmpty {
                header[line] = ""  // bare flags, such as `average_output` (random-forest mode)
            }
        }
        guard header["version"] != nil || header["num_class"] != nil else {
            throw SearchError(.corruptData, "not a LightGBM text model: no header (`version=`, `num_class=`) found")
        }
        let classCount = try Self.int(header["num_class"] ?? "1", "num_class")
        let perIteration = try Self.int(header["num_tree_per_iteration"] ?? Substring(String(classCount)),
            "num_tree_per_iteration")
        guard let maxFeature = header["max_feature_idx"] else {
            throw SearchError(.corruptData, "LightGBM model header has no `max_feature_idx`")
        }
        let featureCount = try Self.int(maxFeature, "max_feature_idx") + 1
        guard perIteration >= 1, featureCount >= 1, featureCount <= 1 << 24 else {
            throw SearchError(.corruptData,
                "LightGBM model header: num_tree_per_iteration = \(perIteration), max_feature_idx + 1 = \(featureCount)")
        }
        let objective = try Self.objective(header["objective"].map(String.init) ?? "regression", classes: perIteration)
        let names = header["feature_names"].map { $0.split(separator: " ").map(String.init) } ?? []

        var builder = Builder(featureCount: featureCount, outputs: perIteration)
        while let line = pending {
            pending = nil
            if line == "end of trees" { break }
            let treeNumber = String(line.dropFirst("Tree=".count))
            var fields: [Substring: Substring] = [:]
            while let raw = lines.next() {
                let l = raw.trimmingSuffix("\r")
                if l.hasPrefix("Tree=") || l == "end of trees" { pending = l; break }
                if let eq = l.firstIndex(of: "=") { fields[l[..<eq]] = l[l.index(after: eq)...] }
            }
            try builder.addTree(fields, name: treeNumber)
        }
        guard !builder.trees.isEmpty else {
            throw SearchError(.corruptData, "LightGBM model has no trees (no `Tree=` block before `end of trees`)")
        }
        guard builder.trees.count % perIteration == 0 else {
            throw SearchError(.corruptData,
                "LightGBM model has \(builder.trees.count) trees, not a multiple of num_tree_per_iteration = \(perIteration)")
        }
        self.init(
            nodes: builder.nodes, leafValues: builder.values, trees: builder.trees, categoryBits: builder.bits,
            featureCount: featureCount, outputCount: perIteration, objective: objective,
            averagesOutput: header["average_output"] != nil, featureNames: names)
    }

    static func objective(_ line: String, classes: Int) throws(SearchError) -> GBDTObjective {
        let parts = line.split(separator: " ")
        let name = parts.first.map(String.init) ?? "regression"
        var parameters: [Substring: Substring] = [:]
        for part in parts.dropFirst() {
            if let colon = part.firstIndex(of: ":") { parameters[part[..<colon]] = part[part.index(after: colon)...] }
            else { parameters[part] = "" }
        }
        func scale() throws(SearchError) -> Double {
            guard let text = parameters["sigmoid"] else { return 1 }
            guard let value = Double(text), value > 0 else {
                throw SearchError(.corruptData, "LightGBM objective `\(line)`: sigmoid parameter `\(text)` is not a positive number")
            }
            return value
        }
        switch name {
        case "regression", "regression_l2", "l2", "mean_squared_error", "mse", "l2_root", "root_mean_squared_error", "rmse":
            return parameters["sqrt"] != nil ? .signedSquare : .identity(name: name)
        case "regression_l1", "l1", "mean_absolute_error", "mae", "huber", "fair", "quantile", "mape",
            "mean_absolute_percentage_error":
            // These derive from LightGBM's L2 regression and share its `sqrt` option.
            return parameters["sqrt"] != nil ? .signedSquare : .identity(name: name)
        case "lambdarank", "rank_xendcg", "xendcg", "xe_ndcg", "xe_ndcg_mart", "xendcg_mart", "custom", "none":
            return .identity(name: name)
        case "binary":
            return .sigmoid(name: name, scale: try scale())
        case "cross_entropy", "xentropy":
            return .sigmoid(name: name, scale: 1)
        case "poisson", "gamma", "tweedie":
            return .exponential(name: name)
        case "multiclass", "softmax":
            return .softmax(classes: classes)
        case "multiclassova", "multiclass_ova", "ova", "ovr":
            return .oneVersusAll(classes: classes, scale: try scale())
        default:
            throw SearchError(.unsupportedFormat,
                "LightGBM objective `\(line)` has no known output transform (cross_entropy_lambda is not supported)")
        }
    }

    static func int(_ text: Substring, _ key: String) throws(SearchError) -> Int {
        guard let value = Int(text) else {
            throw SearchError(.corruptData, "LightGBM model: `\(key)=\(text.prefix(40))` is not an integer")
        }
        return value
    }

    /// Accumulates trees into the flat arrays, checking each one.
    struct Builder {
        let featureCount: Int
        let outputs: Int
        var nodes: [Node] = []
        var values: [Double] = []
        var trees: [TreeInfo] = []
        var bits: [UInt32] = []

        init(featureCount: Int, outputs: Int) {
            self.featureCount = featureCount
            self.outputs = outputs
        }

        mutating func addTree(_ fields: [Substring: Substring], name: String) throws(SearchError) {
            func field(_ key: Substring) throws(SearchError) -> Substring {
                guard let value = fields[key] else {
                    throw SearchError(.corruptData, "LightGBM tree \(name) has no `\(key)`")
                }
                return value
            }
            func list<T>(_ key: Substring, count: Int, _ parse: (Substring) -> T?) throws(SearchError) -> [T] {
                let text = try field(key)
                var out: [T] = []
                out.reserveCapacity(count)
                for item in text.split(separator: " ") {
                    guard let value = parse(item) else {
                        throw SearchError(.corruptData, "LightGBM tree \(name): `\(key)` holds `\(item.prefix(40))`, not a number")
                    }
                    out.append(value)
                }
                guard out.count == count else {
                    throw SearchError(.corruptData,
                        "LightGBM tree \(name): `\(key)` has \(out.count) values; num_leaves implies \(count)")
                }
                return out
            }
            if let linear = fields["is_linear"], linear != "0" {
                throw SearchError(.unsupportedFormat, "LightGBM tree \(name) is a linear tree (is_linear=1); only constant leaves are supported")
            }
            let leaves = try GradientBoostedTrees.int(try field("num_leaves"), "num_leaves")
            guard leaves >= 1, leaves <= 1 << 20 else {
                throw SearchError(.corruptData, "LightGBM tree \(name): num_leaves = \(leaves)")
            }
            let leafValues = try list("leaf_value", count: leaves) { Double($0) }
            let output = Int32(trees.count % outputs)
            let base = nodes.count
            guard base + 2 * leaves < Int(Int32.max) else {
                throw SearchError(.resourceLimit, "LightGBM model has more than 2³¹ nodes")
            }
            if leaves == 1 {
                appendLeaf(value: leafValues[0])
                trees.append(TreeInfo(root: Int32(base), depth: 0, output: output))
                return
            }
            let internalCount = leaves - 1
            let features = try list("split_feature", count: internalCount) { Int($0) }
            let thresholds = try list("threshold", count: internalCount) { Double($0) }
            let decisions = try list("decision_type", count: internalCount) { Int($0) }
            let lefts = try list("left_child", count: internalCount) { Int($0) }
            let rights = try list("right_child", count: internalCount) { Int($0) }
            let categoryCount = try GradientBoostedTrees.int(fields["num_cat"] ?? "0", "num_cat")
            var boundaries: [Int] = []
            var categoryWords: [UInt32] = []
            if categoryCount > 0 {
                boundaries = try list("cat_boundaries", count: categoryCount + 1) { Int($0) }
                let total = boundaries.last ?? 0
                categoryWords = try list("cat_threshold", count: total) { UInt32($0) }
                for i in 0..<categoryCount where !(boundaries[i] >= 0 && boundaries[i] <= boundaries[i + 1]) {
                    throw SearchError(.corruptData, "LightGBM tree \(name): cat_boundaries are not non-decreasing from 0")
                }
            }
            let bitsBase = bits.count
            bits.append(contentsOf: categoryWords)

            // Internal node i is global base + i; leaf j is global base + internalCount + j.
            func global(_ child: Int, from node: Int) throws(SearchError) -> Int32 {
                if child >= 0 {
                    guard child < internalCount, child != node else {
                        throw SearchError(.corruptData, "LightGBM tree \(name): node \(node) has child \(child) out of range")
                    }
                    return Int32(base + child)
                }
                let leaf = ~child
                guard leaf < leaves else {
                    throw SearchError(.corruptData, "LightGBM tree \(name): node \(node) has leaf child \(leaf) of \(leaves)")
                }
                return Int32(base + internalCount + leaf)
            }
            for i in 0..<internalCount {
                let decision = decisions[i]
                guard decision >= 0, decision < 16, (decision >> 2) & 3 != 3 else {
                    throw SearchError(.corruptData, "LightGBM tree \(name): node \(i) has decision_type \(decision)")
                }
                let feature = features[i]
                guard feature >= 0, feature < featureCount else {
                    throw SearchError(.corruptData,
                        "LightGBM tree \(name): node \(i) splits on feature \(feature); the model has \(featureCount)")
                }
                let categorical = decision & 1 != 0
                guard categorical || !thresholds[i].isNaN else {
                    throw SearchError(.corruptData, "LightGBM tree \(name): node \(i) has threshold \(thresholds[i])")
                }
                let defaultLeft = decision & 2 != 0
                let missing = (decision >> 2) & 3
                var node = Node(
                    threshold: thresholds[i], feature: Int32(feature), left: try global(lefts[i], from: i),
                    right: try global(rights[i], from: i), categoryStart: 0, categoryWords: 0, kind: .numerical,
                    nanRight: 0, zeroRight: 0)
                if categorical {
                    let index = Int(exactly: thresholds[i]) ?? -1
                    guard index >= 0, index < categoryCount else {
                        throw SearchError(.corruptData,
                            "LightGBM tree \(name): categorical node \(i) names bitset \(thresholds[i]) of \(categoryCount)")
                    }
                    node.kind = .categorical
                    node.categoryStart = Int32(bitsBase + boundaries[index])
                    node.categoryWords = Int32(boundaries[index + 1] - boundaries[index])
                    node.nanRight = 1
                } else {
                    switch missing {
                    case 2:  // NaN is missing: it goes to the default side.
                        node.nanRight = defaultLeft ? 0 : 1
                    case 1:  // Zero is missing: NaN becomes 0, and 0 goes to the default side.
                        node.kind = .numericalZeroMissing
                        node.nanRight = defaultLeft ? 0 : 1
                        node.zeroRight = defaultLeft ? 0 : 1
                    default:  // None: NaN becomes 0 and is compared.
                        node.nanRight = 0 <= thresholds[i] ? 0 : 1
                    }
                }
                nodes.append(node)
                values.append(0)
            }
            for value in leafValues { appendLeaf(value: value) }
            // Every node must be reached exactly once from the root: no cycles, no orphans.
            var seen = [Bool](repeating: false, count: internalCount)
            var seenLeaf = [Bool](repeating: false, count: leaves)
            var stack: [(node: Int, depth: Int)] = [(0, 0)]
            var depth = 0
            var reachedLeaves = 0
            while let (i, d) = stack.popLast() {
                guard !seen[i] else {
                    throw SearchError(.corruptData, "LightGBM tree \(name): node \(i) is reached twice (not a tree)")
                }
                seen[i] = true
                for child in [lefts[i], rights[i]] {
                    if child >= 0 { stack.append((child, d + 1)) } else {
                        if !seenLeaf[~child] { reachedLeaves += 1 }
                        seenLeaf[~child] = true
                        depth = max(depth, d + 1)
                    }
                }
            }
            guard seen.allSatisfy({ $0 }), reachedLeaves == leaves else {
                throw SearchError(.corruptData,
                    "LightGBM tree \(name): \(seen.filter { $0 }.count) of \(internalCount) nodes and \(reachedLeaves) of \(leaves) leaves are reachable from the root")
            }
            trees.append(TreeInfo(root: Int32(base), depth: Int32(depth), output: output))
        }

        mutating func appendLeaf(value: Double) {
            let index = Int32(nodes.count)
            nodes.append(
                Node(threshold: .infinity, feature: 0, left: index, right: index, categoryStart: 0,
                    categoryWords: 0, kind: .numerical, nanRight: 0, zeroRight: 0))
            values.append(value)
        }
    }
}

extension Substring {
    fileprivate func trimmingSuffix(_ suffix: String) -> Substring {
        hasSuffix(suffix) ? dropLast(suffix.count) : self
    }
}
