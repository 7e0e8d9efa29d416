import Foundation
import SearchCore

extension LogisticRegression {
    /// Training knobs.
    public struct TrainingOptions: Sendable, Hashable {
        /// λ of the penalty (λ/2)‖w‖² added to the mean log loss (the bias is
        /// not penalised). Default 1e-3.
        public var l2: Double = 1e-3
        /// Most L-BFGS iterations. Default 200.
        public var maxIterations: Int = 200
        /// Converged when the gradient's largest component is below this. Default 1e-6.
        public var gradientTolerance: Double = 1e-6
        /// Converged when an iteration lowers the objective by less than this, relatively. Default 1e-10.
        public var relativeTolerance: Double = 1e-10
        /// Correction pairs L-BFGS keeps (m in Nocedal & Wright, ch. 7). Default 10.
        public var history: Int = 10

        /// The defaults.
        public init() {}
    }

    /// What training did.
    public struct TrainingReport: Sendable, Hashable {
        /// L-BFGS iterations taken.
        public var iterations: Int
        /// Whether a convergence test passed (rather than the iteration limit).
        public var converged: Bool
        /// The final objective: mean log loss + (λ/2)‖w‖².
        public var objective: Double
        /// The final gradient's largest component.
        public var gradientNorm: Double
    }

    /// Fits weights to rows and 0/1 (or soft, in [0, 1]) labels by minimising
    /// mean log loss + (λ/2)‖w‖² with L-BFGS (Liu & Nocedal 1989) and a
    /// backtracking Armijo line search. Features are standardised first
    /// (mean 0, deviation 1; NaN counts as the mean).
    ///
    /// - Throws: ``SearchError/Code/invalidArgument`` for empty or ragged
    ///   input, labels outside [0, 1], or infinite features.
    public static func train(rows: [Double], labels: [Double], featureCount d: Int, options: TrainingOptions = .init())
        throws(SearchError) -> (model: LogisticRegression, report: TrainingReport)
    {
        guard d > 0, !labels.isEmpty, rows.count == labels.count * d else {
            throw SearchError(.invalidArgument,
                "training needs \(labels.count) rows × \(d) features = \(labels.count * d) values, got \(rows.count)")
        }
        if let bad = labels.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
            throw SearchError(.invalidArgument, "label \(labels[bad]) at row \(bad) is not in [0, 1]")
        }
        if let bad = rows.firstIndex(where: { $0.isInfinite }) {
            throw SearchError(.invalidArgument, "feature \(bad % d) of row \(bad / d) is infinite")
        }
        guard options.l2 >= 0, options.history > 0, options.maxIterations > 0 else {
            throw SearchError(.invalidArgument, "training options need l2 ≥ 0, history > 0 and maxIterations > 0")
        }
        let n = labels.count
        // Standardise.
        var means = [Double](repeating: 0, count: d)
        var counts = [Double](repeating: 0, count: d)
        for r in 0..<n { for j in 0..<d where !rows[r * d + j].isNaN { means[j] += rows[r * d + j]; counts[j] += 1 } }
        for j in 0..<d { means[j] = counts[j] > 0 ? means[j] / counts[j] : 0 }
        var scales = [Double](repeating: 0, count: d)
        for r in 0..<n { for j in 0..<d where !rows[r * d + j].isNaN { scales[j] += pow(rows[r * d + j] - means[j], 2) } }
        for j in 0..<d {
            let s = counts[j] > 0 ? (scales[j] / counts[j]).squareRoot() : 0
            scales[j] = s > 1e-12 ? s : 1
        }
        var z = [Double](repeating: 0, count: n * d)
        for r in 0..<n {
            for j in 0..<d {
                let v = rows[r * d + j]
                z[r * d + j] = v.isNaN ? 0 : (v - means[j]) / scales[j]
            }
        }
        // Parameters θ = (w₀ … w_{d−1}, b).
        let p = d + 1
        func evaluate(_ theta: [Double], _ gradient: inout [Double]) -> Double {
            for k in 0..<p { gradient[k] = 0 }
            var loss = 0.0
            z.withUnsafeBufferPointer { z in
                for r in 0..<n {
                    var s = theta[d]
                    for j in 0..<d { s += theta[j] * z[r * d + j] }
                    let y = labels[r]
                    // log(1 + e^s) − y·s, computed without overflow.
                    loss += (s > 0 ? s + log1p(exp(-s)) : log1p(exp(s))) - y * s
                    let residual = 1 / (1 + exp(-s)) - y
                    for j in 0..<d { gradient[j] += residual * z[r * d + j] }
                    gradient[d] += residual
                }
            }
            let inverse = 1 / Double(n)
            var penalty = 0.0
            for j in 0..<d {
                gradient[j] = gradient[j] * inverse + options.l2 * theta[j]
                penalty += theta[j] * theta[j]
            }
            gradient[d] *= inverse
            return loss * inverse + 0.5 * options.l2 * penalty
        }
        func dot(_ a: [Double], _ b: [Double]) -> Double {
            var s = 0.0
            for k in 0..<a.count { s += a[k] * b[k] }
            return s
        }
        var theta = [Double](repeating: 0, count: p)
        var gradient = [Double](repeating: 0, count: p)
        var f = evaluate(theta, &gradient)
        var sHistory: [[Double]] = []
        var yHistory: [[Double]] = []
        var iterations = 0
        var converged = false
        while iterations < options.maxIterations {
            if gradient.map(abs).max()! < options.gradientTolerance { converged = true; break }
            // Two-loop recursion: direction = −H·g.
            var q = gradient
            var alphas = [Double](repeating: 0, count: sHistory.count)
            for i in stride(from: sHistory.count - 1, through: 0, by: -1) {
                let rho = 1 / dot(yHistory[i], sHistory[i])
                alphas[i] = rho * dot(sHistory[i], q)
                for k in 0..<p { q[k] -= alphas[i] * yHistory[i][k] }
            }
            if let s = sHistory.last, let y = yHistory.last {
                let gamma = dot(s, y) / dot(y, y)
                for k in 0..<p { q[k] *= gamma }
            }
            for i in 0..<sHistory.count {
                let rho = 1 / dot(yHistory[i], sHistory[i])
                let beta = rho * dot(yHistory[i], q)
                for k in 0..<p { q[k] += sHistory[i][k] * (alphas[i] - beta) }
            }
            var direction = q.map { -$0 }
            var slope = dot(gradient, direction)
            if !(slope < 0) {  // not a descent direction: restart from steepest descent
                direction = gradient.map { -$0 }
                slope = dot(gradient, direction)
                sHistory.removeAll()
                yHistory.removeAll()
            }
            // Backtracking line search with the Armijo condition (c₁ = 1e-4).
            var step = 1.0
            var next = theta
            var nextGradient = gradient
            var nextF = f
            var accepted = false
            for _ in 0..<40 {
                for k in 0..<p { next[k] = theta[k] + step * direction[k] }
                nextF = evaluate(next, &nextGradient)
                if nextF <= f + 1e-4 * step * slope { accepted = true; break }
                step *= 0.5
            }
            iterations += 1
            guard accepted else { converged = true; break }  // no further decrease possible at this precision
            let s = (0..<p).map { next[$0] - theta[$0] }
            let y = (0..<p).map { nextGradient[$0] - gradient[$0] }
            if dot(s, y) > 1e-12 {
                sHistory.append(s)
                yHistory.append(y)
                if sHistory.count > options.history {
                    sHistory.removeFirst()
                    yHistory.removeFirst()
                }
            }
            let decrease = f - nextF
            theta = next
            gradient = nextGradient
            f = nextF
            if decrease <= options.relativeTolerance * max(abs(f), 1) { converged = true; break }
        }
        let model = LogisticRegression(weights: Array(theta[0..<d]), bias: theta[d], means: means, scales: scales)
        let report = TrainingReport(
            iterations: iterations, converged: converged, objective: f, gradientNorm: gradient.map(abs).max() ?? 0)
        return (model, report)
    }
}
