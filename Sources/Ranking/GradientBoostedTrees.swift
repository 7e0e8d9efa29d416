import SearchCore

/// A gradient-boosted tree ensemble that scores exactly as LightGBM does.
///
/// Load one from LightGBM's text model format (``init(lightGBMText:)``), then
/// score rows of `Double` features. Raw scores are the sum of the trees'
/// leaf values in LightGBM's order, in double precision, so they equal
/// `Booster.predict(X, raw_score=True)` to the last bit on the same machine;
/// ``predict(_:into:)`` applies the objective's output transform (sigmoid,
/// softmax, exp) as LightGBM's objective does.
///
/// The decision rules follow LightGBM's `Tree::NumericalDecision` and
/// `Tree::CategoricalDecision`: `x <= threshold` goes left; NaN goes to the
/// node's default side when its missing type is NaN, and otherwise counts as
/// 0; under `zero_as_missing` a value with |x| ≤ 1e-35 goes to the default
/// side; a categorical split sends an integral, non-negative category left
/// when its bit is set in the node's bitset and everything else (NaN,
/// negatives, categories past 2³¹ − 1) right. As LightGBM's dense input
/// conversion does, a feature with |x| ≤ 1e-35 is read as 0.
///
/// ```swift
/// let model = try GradientBoostedTrees(lightGBMText: String(contentsOfFile: path))
/// var scores = [Double](repeating: 0, count: rowCount * model.outputCount)
/// try model.predict(rows, into: &scores)
/// ```
///
/// Storage is flat: every node of every tree lives in one array of plain
/// structs, leaves included as nodes that lead to themselves, so scoring
/// allocates nothing and never calls through a closure or an existential.
/// The loop is chosen once, when the model loads:
///
/// - single-output models walk all trees as one chained path, twelve rows at
///   a time with no branch per node (`GradientBoostedTrees+ChainedPath.swift`);
/// - multi-output models walk tree by tree in lockstep blocks
///   (`GradientBoostedTrees+FastPath.swift`);
/// - both read rows widened so one `x > threshold` decides every missing-value
///   rule (`GradientBoostedTrees+Widening.swift`), with categorical splits
///   expanded into exact numerical searches
///   (`GradientBoostedTrees+CategoricalExpansion.swift`);
/// - a model outside their limits (a threshold of ±`greatestFiniteMagnitude`,
///   a tree past 65,535 nodes after expansion, more than 16,383 features)
///   takes the general loop, which decides each node by its kind
///   (`GradientBoostedTrees+Scoring.swift`).
///
/// All three sum leaf values in LightGBM's order and agree with it on the
/// committed fixtures (Tests/RankingTests/Fixtures, written by
/// scripts/fixtures/make_ranking_fixtures.py).
public struct GradientBoostedTrees: Sendable {
    /// One node. Internal nodes split; a leaf is a node whose children are itself.
    @usableFromInline
    struct Node: Sendable {
        /// The split threshold (numerical), or `+inf` for a leaf.
        @usableFromInline var threshold: Double
        /// The feature compared; 0 for a leaf.
        @usableFromInline var feature: Int32
        /// Global index of the left child.
        @usableFromInline var left: Int32
        /// Global index of the right child.
        @usableFromInline var right: Int32
        /// For a categorical split: the first word of its bitset in ``categoryBits``.
        @usableFromInline var categoryStart: Int32
        /// For a categorical split: the number of 32-bit words in its bitset.
        @usableFromInline var categoryWords: Int32
        /// How this node decides (see ``NodeKind``).
        @usableFromInline var kind: NodeKind
        /// Where NaN goes: 1 right, 0 left (already resolved from the missing type).
        @usableFromInline var nanRight: UInt8
        /// Under a Zero missing type, where |x| ≤ 1e-35 goes: 1 right, 0 left.
        @usableFromInline var zeroRight: UInt8
    }

    /// How a node decides.
    @usableFromInline
    enum NodeKind: UInt8, Sendable {
        /// `x <= threshold`, NaN resolved by ``Node/nanRight`` (missing types None and NaN), or a leaf.
        case numerical = 0
        /// As ``numerical``, and a zero goes to the default side (missing type Zero).
        case numericalZeroMissing = 1
        /// A categorical bitset split.
        case categorical = 2
    }

    /// One tree's place in the flat arrays.
    @usableFromInline
    struct TreeInfo: Sendable {
        /// Global index of the root (a leaf for a one-leaf tree).
        @usableFromInline var root: Int32
        /// The longest root-to-leaf path, in edges.
        @usableFromInline var depth: Int32
        /// The output (class) this tree adds to.
        @usableFromInline var output: Int32
    }

    @usableFromInline var nodes: [Node]
    /// The value of each node: the leaf value for a leaf, 0 for an internal node.
    @usableFromInline var leafValues: [Double]
    @usableFromInline var trees: [TreeInfo]
    @usableFromInline var categoryBits: [UInt32]
    /// How hard the model's nodes are to decide; picks the scoring loop once.
    @usableFromInline var hardestKind: NodeKind
    /// For models of plain numerical splits: the nodes in the layout of the
    /// branch-free fast path (see `GradientBoostedTrees+FastPath.swift`); empty otherwise.
    @usableFromInline var fastNodes: [FastNode] = []
    /// Leaf values indexed like ``fastNodes``.
    @usableFromInline var fastValues: [Double] = []
    /// Tree roots in ``fastNodes``.
    @usableFromInline var fastRoots: [Int32] = []
    /// Tree depths in ``fastNodes`` (categorical splits expanded).
    @usableFromInline var fastDepths: [Int32] = []
    /// For single-output fast-path models: the trees chained into one path
    /// (see `GradientBoostedTrees+ChainedPath.swift`); empty otherwise.
    @usableFromInline var chainNodes: [ChainNode] = []
    /// Byte offset of the chained layout's sink.
    @usableFromInline var chainSink: UInt32 = 0
    /// Column offset of the chained layout's first split.
    @usableFromInline var chainFirstColumn: UInt32 = 0

    /// The number of features a row must have (LightGBM's `max_feature_idx + 1`).
    public let featureCount: Int
    /// Scores per row: 1, or the number of classes for a multiclass model.
    public let outputCount: Int
    /// The objective whose output transform ``predict(_:into:)`` applies.
    public let objective: GBDTObjective
    /// Whether predictions average the raw sum over iterations (LightGBM's
    /// random-forest mode, `average_output` in the model file).
    public let averagesOutput: Bool
    /// Feature names from the model file, in column order.
    public let featureNames: [String]

    /// The number of trees.
    public var treeCount: Int { trees.count }

    /// The number of boosting iterations (trees ÷ ``outputCount``).
    public var iterationCount: Int { trees.count / outputCount }

    init(
        nodes: [Node], leafValues: [Double], trees: [TreeInfo], categoryBits: [UInt32], featureCount: Int,
        outputCount: Int, objective: GBDTObjective, averagesOutput: Bool, featureNames: [String]
    ) {
        self.nodes = nodes
        self.leafValues = leafValues
        self.trees = trees
        // One spare word so the bitset pointer is valid even without categorical splits.
        self.categoryBits = categoryBits.isEmpty ? [0] : categoryBits
        self.featureCount = featureCount
        self.outputCount = outputCount
        self.objective = objective
        self.averagesOutput = averagesOutput
        self.featureNames = featureNames
        var hardest = NodeKind.numerical
        for node in nodes where node.kind.rawValue > hardest.rawValue { hardest = node.kind }
        self.hardestKind = hardest
        // The fast path's widening needs thresholds strictly inside the finite
        // range or +∞ (LightGBM writes `inf` for "everything but NaN" splits).
        let fastEligible = nodes.allSatisfy { n in
            n.threshold == .infinity || (n.threshold > -.greatestFiniteMagnitude && n.threshold < .greatestFiniteMagnitude)
        }
        if fastEligible {
            if let layout = Self.fastLayout(
                nodes, values: leafValues, trees: trees, featureCount: featureCount, categoryBits: self.categoryBits)
            {
                (fastNodes, fastValues, fastRoots, fastDepths) = layout
                if outputCount == 1,
                    let chained = Self.chainLayout(fastNodes, values: fastValues, roots: fastRoots)
                {
                    (chainNodes, chainFirstColumn, chainSink) = chained
                }
            }
        }
    }
}
