import SearchCore
import Tensor

/// Strict weight loading: every tensor an architecture declares is taken
/// from the file exactly once, with the declared shape, and what the file
/// holds beyond that is reported.
///
/// The architectures declare their tensors through key maps
/// (``TransformerKeyMap`` and the towers' own names); the loader is the one
/// place that checks them, in the spirit of mlx-swift's `Load.swift`:
///
/// - a required key that is absent: ``SearchCore/SearchError/Code/corruptData``
///   naming the key and the file;
/// - a shape that differs from the configuration's:
///   ``SearchCore/SearchError/Code/dimensionMismatch`` with both shapes;
/// - keys left over at ``finish(ignoringPrefixes:ignoringKeys:)``:
///   ``SearchCore/SearchError/Code/unsupportedFormat`` listing them (a sign
///   the configuration and the weights disagree), unless the caller names
///   them as belonging to another tower or as buffers to skip;
/// - a NaN or an infinity anywhere in a tensor taken:
///   ``SearchCore/SearchError/Code/corruptData`` naming the tensor, the
///   first bad element and the file. One vectorised pass per tensor
///   (``Tensor/Kernels/maxMagnitude(_:count:)``, which is NaN when any
///   element is NaN and infinite when any is infinite), over values already
///   in cache from the conversion; `mms-bench weights` measures it against
///   the whole load (5–9%: 21.6 ms of ViT-B/32's 406 ms FP32 load, 2026-12-03,
///   Zen 4, avx512).
struct WeightLoader: ~Copyable {
    let file: SafetensorsFile
    private(set) var taken = Set<String>()

    init(file: consuming SafetensorsFile) {
        self.file = file
    }

    /// Whether the file has `key` (for optional tensors and for detecting a naming).
    func contains(_ key: String) -> Bool { file.header[key] != nil }

    /// Takes `key` as a float tensor whose shape must equal `shape`.
    mutating func take(_ key: String, shape: [Int]) throws(SearchError) -> Tensor<Float> {
        guard let info = file.header[key] else {
            throw SearchError(.corruptData, "\(file.path): required tensor \"\(key)\" is missing")
        }
        guard info.shape == shape else {
            throw SearchError(
                .dimensionMismatch,
                "\(file.path): tensor \"\(key)\" has shape \(info.shape); the configuration needs \(shape)")
        }
        taken.insert(key)
        let tensor = try file.floats(key)
        try Self.checkFinite(tensor, key, file.path)
        return tensor
    }

    /// Takes `key` reshaped to `shape` when the file stores the same elements
    /// under another shape (a `[1, 1, n]` class token, a scalar as `[1]`).
    mutating func take(_ key: String, elementsOf shape: [Int]) throws(SearchError) -> Tensor<Float> {
        guard let info = file.header[key] else {
            throw SearchError(.corruptData, "\(file.path): required tensor \"\(key)\" is missing")
        }
        let wanted = shape.reduce(1, *)
        guard info.elementCount == wanted, info.shape.filter({ $0 != 1 }) == shape.filter({ $0 != 1 }) else {
            throw SearchError(
                .dimensionMismatch,
                "\(file.path): tensor \"\(key)\" has shape \(info.shape); the configuration needs \(shape)")
        }
        taken.insert(key)
        let tensor = try file.floats(key)
        try Self.checkFinite(tensor, key, file.path)
        return try tensor.reshaped(shape)
    }

    /// Throws ``SearchCore/SearchError/Code/corruptData`` when `tensor`
    /// (read from `key` in the file at `path`) holds a NaN or an infinity:
    /// such a weight turns every embedding into NaN, silently.
    static func checkFinite(_ tensor: Tensor<Float>, _ key: String, _ path: String) throws(SearchError) {
        let kernels = Kernels.active
        let bad: (index: Int, value: Float)? = tensor.withUnsafeBufferPointer { values in
            guard let base = values.baseAddress, !values.isEmpty,
                !kernels.maxMagnitude(base, count: values.count).isFinite
            else { return nil }
            // Only on the error path: find the first offender, to name it.
            guard let i = values.firstIndex(where: { !$0.isFinite }) else { return nil }
            return (i, values[i])
        }
        guard let bad else { return }
        var position = ""
        if tensor.shape.count > 1 {
            var rest = bad.index
            var coordinates = [Int](repeating: 0, count: tensor.shape.count)
            for axis in tensor.shape.indices.reversed() {
                coordinates[axis] = rest % tensor.shape[axis]
                rest /= tensor.shape[axis]
            }
            position = " \(coordinates)"
        }
        let what = bad.value.isNaN ? "NaN" : (bad.value > 0 ? "+infinity" : "-infinity")
        throw SearchError(
            .corruptData,
            "\(path): tensor \"\(key)\" holds \(what) at element \(bad.index)\(position) of shape \(tensor.shape); "
                + "a non-finite weight makes every embedding NaN. The file is damaged or was saved from a diverged "
                + "model: download or export it again")
    }

    /// Takes several row blocks (`[rows_i, columns]` each) concatenated into one matrix,
    /// as separate q, k, v projections are fused into one.
    mutating func takeConcatenated(_ keys: [String], rows: Int, columns: Int) throws(SearchError) -> Tensor<Float> {
        var parts: [Tensor<Float>] = []
        for key in keys {
            parts.append(try take(key, shape: columns == 0 ? [rows] : [rows, columns]))
        }
        let width = max(columns, 1)
        var fused = Tensor<Float>(shape: columns == 0 ? [rows * keys.count] : [rows * keys.count, columns])
        fused.withUnsafeMutableBufferPointer { out in
            for (i, part) in parts.enumerated() {
                part.withUnsafeBufferPointer { p in
                    (out.baseAddress! + i * rows * width).update(from: p.baseAddress!, count: rows * width)
                }
            }
        }
        return fused
    }

    /// Throws when the file holds keys nobody took, other than those under
    /// `ignoringPrefixes` or named in `ignoringKeys`.
    func finish(ignoringPrefixes: [String] = [], ignoringKeys: Set<String> = []) throws(SearchError) {
        let unexpected = file.header.names.filter { key in
            !taken.contains(key) && !ignoringKeys.contains(key) && !ignoringPrefixes.contains { key.hasPrefix($0) }
        }
        guard unexpected.isEmpty else {
            let shown = unexpected.prefix(8).joined(separator: ", ")
            throw SearchError(
                .unsupportedFormat,
                "\(file.path): \(unexpected.count) unexpected tensor(s) the configuration does not use: \(shown)\(unexpected.count > 8 ? ", …" : "")")
        }
    }
}
