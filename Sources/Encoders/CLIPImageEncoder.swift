import ImageDecoding
import SearchCore
import Tensor

/// CLIP's image tower, a vision transformer (Dosovitskiy et al. 2021;
/// Radford et al. 2021): patches embedded by one GEMM, a class token,
/// positional embeddings, a layer norm, pre-LN blocks, a layer norm on the
/// class token's state, a linear projection.
///
/// Takes JPEG or PNG bytes (``SearchCore/ImageInput/encoded(_:)``), decoded
/// pixels (``SearchCore/ImageInput/rgb(_:)``) — both brought to the model's
/// input by ``preprocessor``, CLIP's resize, centre crop and normalisation —
/// or ``SearchCore/ImageInput/preprocessed(_:width:height:)`` pixels,
/// channels first, normalised as the model expects. At the trained size the
/// positional embeddings are used as stored; at another size the patch
/// positions are resampled to the new grid by bicubic interpolation exactly
/// as Hugging Face's `interpolate_pos_encoding=True` does (PyTorch's
/// `interpolate(mode="bicubic", align_corners=False)`, A = −0.75, no
/// antialiasing). open_clip's `resize_pos_embed`, used when a checkpoint is
/// loaded at another size, antialiases (PIL's A = −0.5) and gives slightly
/// different positions; it is not reproduced. As in a strided convolution,
/// pixels past the last whole patch are ignored.
///
/// ```swift
/// let configuration = try CLIPConfiguration(huggingFaceConfigPath: "config.json")
/// let images = try CLIPImageEncoder(
///     weights: SafetensorsFile(path: "model.safetensors"), configuration: configuration.vision)
/// let e = try images.embed(.preprocessed(pixels, width: 224, height: 224))
/// ```
public struct CLIPImageEncoder: ImageEncoder {
    /// The tower's geometry.
    public let configuration: CLIPVisionConfiguration
    /// The naming the weights were read under.
    public let naming: CLIPNaming
    /// Whether embeddings are scaled to unit length (true: CLIP compares by cosine).
    public let normalizes: Bool
    /// When set, OpenBLAS's process-wide thread count is set to this before each batch.
    public var threadCount: Int?
    /// The largest input accepted, in pixels (width × height).
    public var maximumPixelCount = 4096 * 4096
    /// How encoded and RGB inputs become the model's input: by default
    /// OpenAI CLIP's (shorter side to the model's image size with Pillow's
    /// bicubic, centre crop, CLIP's mean and std), decoding a JPEG at a
    /// reduced DCT scale when its shorter side stays at least
    /// ``ImageDecoding/ImagePreprocessor/dctHeadroom`` × the image size.
    public var preprocessor: ImagePreprocessor
    /// How a large batch is cut into forward passes and spread over threads
    /// (passes of at most 64 items, one at a time, by default).
    public var batching = BatchPolicy()
    /// Limits and options for decoding ``SearchCore/ImageInput/encoded(_:)`` input.
    public var decodingOptions = DecodingOptions()

    /// `[width, 3·p·p]`: the patch convolution as a matrix, rows in (channel, y, x) order.
    let patchWeight: LinearLayerMatrix
    let classEmbedding: Tensor<Float>
    /// `[1 + grid², width]`.
    let positionEmbeddings: Tensor<Float>
    let preNormWeight, preNormBias: Tensor<Float>
    let postNormWeight, postNormBias: Tensor<Float>
    /// `[embeddingDimension, width]`.
    let projection: Tensor<Float>
    let stack: TransformerStack
    /// Decoded and preprocessed inputs, kept between calls (shared by copies of the encoder).
    let inputs = ScratchPool()
    /// Every image's patches as rows, and their embeddings, kept between calls.
    let patches = ScratchPool()

    /// How the transformer blocks' projection weights are stored (see ``WeightPrecision``).
    public let precision: WeightPrecision
    /// Bytes held by the transformer blocks' projection weights in ``precision``.
    public var blockWeightByteCount: Int { stack.projectionByteCount }

    /// The number of components of each embedding: the projection's output.
    public var dimension: Int { configuration.embeddingDimension }

    /// Loads the image tower from a whole-CLIP (or vision-only) weight file, in
    /// either naming (detected when nil). The text tower's tensors and
    /// `logit_scale` are skipped; anything else unexpected is an error.
    /// `precision` says how the blocks' projections are kept (FP32 by default).
    public init(
        weights: consuming SafetensorsFile, configuration: CLIPVisionConfiguration, naming: CLIPNaming? = nil,
        normalizes: Bool = true, precision: WeightPrecision = .float32
    ) throws(SearchError) {
        try configuration.geometry.validate("CLIP vision configuration")
        let w = configuration.width, p = configuration.patchSize, e = configuration.embeddingDimension
        let positions = configuration.gridSize * configuration.gridSize + 1
        guard configuration.gridSize > 0 else {
            throw SearchError(.invalidArgument, "image size \(configuration.imageSize) is smaller than the patch \(p)")
        }
        let naming = try CLIPNaming.resolve(naming, weights.header)
        var loader = WeightLoader(file: weights)
        switch naming {
        case .openAI:
            patchWeight = LinearLayerMatrix(try loader.take("visual.conv1.weight", shape: [w, 3, p, p]).reshaped([w, 3 * p * p]))
            classEmbedding = try loader.take("visual.class_embedding", elementsOf: [w])
            positionEmbeddings = try loader.take("visual.positional_embedding", shape: [positions, w])
            preNormWeight = try loader.take("visual.ln_pre.weight", shape: [w])
            preNormBias = try loader.take("visual.ln_pre.bias", shape: [w])
            postNormWeight = try loader.take("visual.ln_post.weight", shape: [w])
            postNormBias = try loader.take("visual.ln_post.bias", shape: [w])
            projection = transposed(try loader.take("visual.proj", shape: [w, e]))
            stack = try TransformerStack(loading: &loader, keys: .openAI("visual."), geometry: configuration.geometry, precision: precision)
            try loader.finish(
                ignoringPrefixes: ["transformer.", "token_embedding.", "ln_final."],
                ignoringKeys: ["logit_scale", "positional_embedding", "text_projection", "attn_mask"])
        case .huggingFace:
            patchWeight = LinearLayerMatrix(
                try loader.take("vision_model.embeddings.patch_embedding.weight", shape: [w, 3, p, p]).reshaped([w, 3 * p * p]))
            classEmbedding = try loader.take("vision_model.embeddings.class_embedding", elementsOf: [w])
            positionEmbeddings = try loader.take("vision_model.embeddings.position_embedding.weight", shape: [positions, w])
            preNormWeight = try loader.take("vision_model.pre_layrnorm.weight", shape: [w])
            preNormBias = try loader.take("vision_model.pre_layrnorm.bias", shape: [w])
            postNormWeight = try loader.take("vision_model.post_layernorm.weight", shape: [w])
            postNormBias = try loader.take("vision_model.post_layernorm.bias", shape: [w])
            projection = try loader.take("visual_projection.weight", shape: [e, w])
            stack = try TransformerStack(
                loading: &loader, keys: .huggingFaceCLIP("vision_model."), geometry: configuration.geometry, precision: precision)
            try loader.finish(
                ignoringPrefixes: ["text_model.", "text_projection."],
                ignoringKeys: ["logit_scale", "vision_model.embeddings.position_ids"])
        }
        self.configuration = configuration
        self.naming = naming
        self.normalizes = normalizes
        self.precision = precision
        self.preprocessor = Self.clipPreprocessor(imageSize: configuration.imageSize)
    }

    /// OpenAI CLIP's preprocessing at `imageSize` pixels.
    public static func clipPreprocessor(imageSize: Int) -> ImagePreprocessor {
        let clip = ImagePreprocessor.clip
        return ImagePreprocessor(
            shortSide: imageSize, cropWidth: imageSize, cropHeight: imageSize, mean: clip.mean, std: clip.std,
            filter: clip.filter, cropRounding: clip.cropRounding, dctHeadroom: clip.dctHeadroom)
    }

    /// Embeds `images` into `output`, `images.count × dimension` floats.
    ///
    /// Encoded and RGB images are decoded and preprocessed (see
    /// ``preprocessor``) into a buffer kept between calls; preprocessed
    /// pixels are read in place.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/corruptData``,
    ///   ``SearchCore/SearchError/Code/unsupportedFormat`` or
    ///   ``SearchCore/SearchError/Code/resourceLimit`` from the decoder for
    ///   bytes it cannot or will not decode;
    ///   ``SearchCore/SearchError/Code/dimensionMismatch`` when a pixel array
    ///   is not `3 × width × height` or `output` has the wrong size;
    ///   ``SearchCore/SearchError/Code/invalidArgument`` for an image smaller
    ///   than one patch; ``SearchCore/SearchError/Code/resourceLimit`` past
    ///   ``maximumPixelCount``.
    public func embed(images: [ImageInput], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        try SearchError.checkDimension(output.count, expected: images.count * dimension, "the output buffer")
        try batching.run(count: images.count, dimension: dimension, output: output) { (pass, out) throws(SearchError) in
            try self.embedPass(Array(images[pass]), into: out)
        }
    }

    /// The model's input: 3 × ``ImageDecoding/ImagePreprocessor/cropHeight`` × ``ImageDecoding/ImagePreprocessor/cropWidth`` of ``preprocessor``.
    public var inputShape: ImageInputShape {
        ImageInputShape(channels: 3, height: preprocessor.cropHeight, width: preprocessor.cropWidth)
    }

    /// Embeds `count` inputs of ``inputShape`` laid end to end in one forward pass.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/dimensionMismatch`` unless
    ///   `batch` holds `count` inputs of ``inputShape`` and `output` room for
    ///   `count` embeddings.
    public func embed(preprocessed batch: UnsafeBufferPointer<Float>, count: Int, into output: UnsafeMutableBufferPointer<Float>)
        throws(SearchError)
    {
        let shape = inputShape
        try SearchError.checkDimension(batch.count, expected: count * shape.floatCount, "a batch of \(count) preprocessed inputs")
        try embed(pixels: batch, imageCount: count, width: shape.width, height: shape.height, into: output)
    }

    /// Writes the model input for one image into `output`
    /// (``preprocessor``'s `outputCount` floats, channels first): encoded
    /// bytes are decoded (with ``decodingOptions``) and preprocessed, RGB
    /// pixels preprocessed, preprocessed pixels copied.
    ///
    /// - Throws: the decoder's errors; ``SearchCore/SearchError/Code/dimensionMismatch``
    ///   for a wrongly sized `output` or preprocessed input of another size.
    public func preprocess(_ image: ImageInput, into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        switch image {
        case .encoded(let bytes): try preprocessor.preprocess(encoded: bytes, into: output, decoding: decodingOptions)
        case .rgb(let pixels): try preprocessor.preprocess(pixels, into: output)
        case .preprocessed(let pixels, let width, let height):
            guard width == preprocessor.cropWidth, height == preprocessor.cropHeight, pixels.count == output.count else {
                throw SearchError(
                    .dimensionMismatch,
                    "a \(width)×\(height) preprocessed image does not fill a \(preprocessor.cropWidth)×\(preprocessor.cropHeight) input of \(output.count) floats")
            }
            _ = output.update(fromContentsOf: pixels)
        }
    }

    /// One forward pass over `images` (decoding and preprocessing included).
    private func embedPass(_ images: [ImageInput], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        let preprocessor = preprocessor
        let size = preprocessor.outputCount
        // Each image's slot in the decoded-input buffer, or nil when it comes preprocessed.
        var slots: [Int?] = []
        slots.reserveCapacity(images.count)
        var decodedCount = 0
        for image in images {
            if case .preprocessed(let pixels, let width, let height) = image {
                try checkSize(width: width, height: height, pixelCount: pixels.count)
                slots.append(nil)
            } else {
                slots.append(decodedCount)
                decodedCount += 1
            }
        }
        if decodedCount > 0 {
            try checkSize(width: preprocessor.cropWidth, height: preprocessor.cropHeight, pixelCount: size)
        }
        try inputs.withBuffer(count: max(decodedCount * size, 1)) { (arena) throws(SearchError) in
            for (image, slot) in zip(images, slots) {
                guard let slot else { continue }
                try preprocess(image, into: UnsafeMutableBufferPointer(start: arena + slot * size, count: size))
            }
            try embed(
                count: images.count,
                sizeOf: { i in
                    if case .preprocessed(_, let width, let height) = images[i] { return (width, height) }
                    return (preprocessor.cropWidth, preprocessor.cropHeight)
                },
                pixelsOf: { i, body in
                    if case .preprocessed(let pixels, _, _) = images[i] {
                        pixels.withUnsafeBufferPointer(body)
                    } else {
                        body(UnsafeBufferPointer(start: arena + slots[i]! * size, count: size))
                    }
                },
                into: output)
        }
    }

    /// Embeds `imageCount` images of one size stored one after another in
    /// `pixels`, each channels-first (`imageCount × 3 × height × width`
    /// floats, normalised as the model expects), without copying them, in
    /// one forward pass (``batching`` does not apply: the caller chose the batch).
    ///
    /// - Throws: as ``embed(images:into:)``.
    public func embed(
        pixels: UnsafeBufferPointer<Float>, imageCount: Int, width: Int, height: Int,
        into output: UnsafeMutableBufferPointer<Float>
    ) throws(SearchError) {
        guard imageCount >= 0 else { throw SearchError(.invalidArgument, "imageCount \(imageCount) is negative") }
        guard imageCount > 0 else {
            try SearchError.checkDimension(output.count, expected: 0, "the output buffer")
            return
        }
        guard pixels.count % imageCount == 0 else {
            throw SearchError(.dimensionMismatch, "\(pixels.count) floats do not divide into \(imageCount) images")
        }
        let size = pixels.count / imageCount
        try checkSize(width: width, height: height, pixelCount: size)
        try embed(
            count: imageCount, sizeOf: { _ in (width, height) },
            pixelsOf: { i, body in body(UnsafeBufferPointer(rebasing: pixels[(i * size)..<((i + 1) * size)])) },
            into: output)
    }

    /// Throws unless a `width × height` image of `pixelCount` floats is one this encoder takes.
    private func checkSize(width: Int, height: Int, pixelCount: Int) throws(SearchError) {
        let p = configuration.patchSize
        let (count, overflow) = width.multipliedReportingOverflow(by: height)
        guard width > 0, height > 0, !overflow, count <= maximumPixelCount else {
            throw SearchError(.resourceLimit, "a \(width)×\(height) input is outside 1…\(maximumPixelCount) pixels")
        }
        try SearchError.checkDimension(pixelCount, expected: 3 * count, "a \(width)×\(height) preprocessed image")
        guard width >= p, height >= p else {
            throw SearchError(.invalidArgument, "a \(width)×\(height) image is smaller than one \(p)×\(p) patch")
        }
    }

    /// The forward pass over `count` checked images, whose sizes and pixels the closures give
    /// (called once per image, never per pixel).
    private func embed(
        count: Int, sizeOf: (Int) -> (width: Int, height: Int),
        pixelsOf: (Int, (UnsafeBufferPointer<Float>) -> Void) -> Void,
        into output: UnsafeMutableBufferPointer<Float>
    ) throws(SearchError) {
        let w = configuration.width, p = configuration.patchSize
        try SearchError.checkDimension(output.count, expected: count * configuration.embeddingDimension, "the output buffer")
        var sequences: [Range<Int>] = []
        sequences.reserveCapacity(count)
        var tokens = 0
        for i in 0..<count {
            let (width, height) = sizeOf(i)
            let length = 1 + (width / p) * (height / p)
            sequences.append(tokens..<(tokens + length))
            tokens += length
        }
        guard tokens > 0 else { return }
        if let threadCount { BLAS.threadCount = threadCount }
        var x = [Float](repeating: 0, count: tokens * w)
        var classStates = [Float](repeating: 0, count: count * w)
        var resampled: (grid: (Int, Int), positions: Tensor<Float>)?
        let patchLength = 3 * p * p
        let patchCount = tokens - count
        x.withUnsafeMutableBufferPointer { xb in
            let x = xb.baseAddress!
            // Every image's patches as rows of one matrix, embedded by one GEMM, then each
            // sequence is the class token and its patches, plus the positional embeddings.
            patches.withBuffer(count: patchCount * (patchLength + w)) { scratch in
                let columns = scratch, embedded = scratch + patchCount * patchLength
                var row = 0
                for (i, sequence) in sequences.enumerated() {
                    let (width, height) = sizeOf(i)
                    pixelsOf(i) { pixels in gatherPatches(pixels, width: width, height: height, into: columns + row * patchLength) }
                    row += sequence.count - 1
                }
                patchWeight.apply(columns, rows: patchCount, bias: nil, into: embedded)
                row = 0
                for (i, sequence) in sequences.enumerated() {
                    let (width, height) = sizeOf(i)
                    let gh = height / p, gw = width / p
                    let positions: Tensor<Float>
                    if gh == configuration.gridSize && gw == configuration.gridSize {
                        positions = positionEmbeddings
                    } else if let r = resampled, r.grid == (gh, gw) {
                        positions = r.positions
                    } else {
                        positions = resampledPositions(rows: gh, columns: gw)
                        resampled = ((gh, gw), positions)
                    }
                    positions.withUnsafeBufferPointer { pos in
                        classEmbedding.withUnsafeBufferPointer { cls in
                            let first = x + sequence.lowerBound * w
                            for j in 0..<w { first[j] = cls[j] + pos[j] }
                            for t in 1..<sequence.count {
                                let out = first + t * w, q = pos.baseAddress! + t * w
                                let patch = embedded + (row + t - 1) * w
                                for j in 0..<w { out[j] = patch[j] + q[j] }
                            }
                        }
                    }
                    row += sequence.count - 1
                }
            }
            preNormWeight.withUnsafeBufferPointer { g in
                preNormBias.withUnsafeBufferPointer { b in
                    for t in 0..<tokens {
                        FastMath.layerNorm(
                            x + t * w, count: w, gamma: g.baseAddress!, beta: b.baseAddress!,
                            epsilon: configuration.layerNormEpsilon)
                    }
                }
            }
            // Only the class tokens' final states are read (by the post-norm and projection).
            stack(x, sequences: sequences, keeping: sequences.map(\.lowerBound))
            classStates.withUnsafeMutableBufferPointer { states in
                postNormWeight.withUnsafeBufferPointer { g in
                    postNormBias.withUnsafeBufferPointer { b in
                        for (i, s) in sequences.enumerated() {
                            let state = states.baseAddress! + i * w
                            state.update(from: x + s.lowerBound * w, count: w)
                            FastMath.layerNorm(
                                state, count: w, gamma: g.baseAddress!, beta: b.baseAddress!,
                                epsilon: configuration.layerNormEpsilon)
                        }
                    }
                }
                project(states.baseAddress!, count: count, projection, into: output, normalizes: normalizes)
            }
        }
    }

    /// Writes the image's patches as rows of `columns` (`(height/p)·(width/p)` rows of
    /// `3·p·p` floats in (channel, y, x) order, the convolution weight's order).
    private func gatherPatches(
        _ pixels: UnsafeBufferPointer<Float>, width: Int, height: Int, into columns: UnsafeMutablePointer<Float>
    ) {
        let p = configuration.patchSize
        let gh = height / p, gw = width / p
        let patchLength = 3 * p * p
        let plane = width * height
        for i in 0..<gh {
            for j in 0..<gw {
                var out = columns + (i * gw + j) * patchLength
                for c in 0..<3 {
                    for ky in 0..<p {
                        let source = pixels.baseAddress! + c * plane + (i * p + ky) * width + j * p
                        out.update(from: source, count: p)
                        out += p
                    }
                }
            }
        }
    }

    /// The positional embeddings for a `rows × columns` grid: the class
    /// position as stored, the patch positions resampled bicubically.
    func resampledPositions(rows: Int, columns: Int) -> Tensor<Float> {
        let w = configuration.width, g = configuration.gridSize
        var result = Tensor<Float>(shape: [1 + rows * columns, w])
        positionEmbeddings.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { target in
                for j in 0..<w { target[j] = source[j] }
                let ys = Bicubic.taps(input: g, output: rows)
                let xs = Bicubic.taps(input: g, output: columns)
                for r in 0..<rows {
                    for c in 0..<columns {
                        let out = target.baseAddress! + (1 + r * columns + c) * w
                        for j in 0..<w { out[j] = 0 }
                        for (yi, yw) in ys[r] {
                            for (xi, xw) in xs[c] {
                                let weight = yw * xw
                                let from = source.baseAddress! + (1 + yi * g + xi) * w
                                for j in 0..<w { out[j] += weight * from[j] }
                            }
                        }
                    }
                }
            }
        }
        return result
    }
}

/// PyTorch's bicubic resampling weights (`align_corners=False`, A = −0.75,
/// source indices clamped at the borders).
enum Bicubic {
    /// For each output index, four (input index, weight) taps.
    static func taps(input: Int, output: Int) -> [[(Int, Float)]] {
        let scale = Double(input) / Double(output)
        let a = -0.75
        func near(_ x: Double) -> Double { ((a + 2) * x - (a + 3)) * x * x + 1 }
        func far(_ x: Double) -> Double { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
        return (0..<output).map { o in
            let source = scale * (Double(o) + 0.5) - 0.5
            let base = Int(source.rounded(.down))
            let t = source - Double(base)
            let weights = [far(t + 1), near(t), near(1 - t), far(2 - t)]
            return (0..<4).map { k in (min(max(base - 1 + k, 0), input - 1), Float(weights[k])) }
        }
    }
}
