import Dispatch
import ImageDecoding
import SearchCore
import Synchronization
import Tensor

/// CLIP's image tower, a vision transformer (Dosovitskiy et al. 2021;
/// Radford et al. 2021): patches embedded by one GEMM, a class token,
/// positional embeddings, a layer norm, pre-LN blocks, a layer norm on the
/// class token's state, a linear projection.
///
/// Takes JPEG or PNG bytes (``SearchCore/ImageInput/encoded(_:)``), decoded
/// pixels (``SearchCore/ImageInput/rgb(_:)``) — both brought to the model's
/// input by ``preprocessor``, CLIP's resize, centre crop and normalisation —
/// or ``SearchCore/ImageInput/preprocessed(_:width:height:)`` pixels of
/// ``inputShape``, channels first, normalised as the model expects. The
/// encoder is the one owner of that preprocessing: an ingest stage calls
/// ``preprocess(_:into:)`` and ``embed(preprocessed:count:into:)``, or
/// ``embed(images:into:)`` for both.
///
/// At the trained size the positional embeddings are used as stored;
/// ``embed(pixels:imageCount:width:height:into:)`` also takes other sizes
/// (as does a ``preprocessor`` with another crop), and then the patch
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
/// let e = try images.embed(.encoded(jpegBytes))
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
    /// bicubic, centre crop, CLIP's mean and std), every JPEG decoded at full
    /// size so the input equals Pillow's; set
    /// ``ImageDecoding/ImagePreprocessor/dctHeadroom`` for the faster,
    /// inexact reduced-scale decode.
    public var preprocessor: ImagePreprocessor
    /// How a large batch is cut into forward passes and spread over threads
    /// (passes of at most 64 items, one at a time, by default).
    public var batching = BatchPolicy()
    /// Limits and options for decoding ``SearchCore/ImageInput/encoded(_:)`` input.
    public var decodingOptions = DecodingOptions()

    /// `[width, 3·p·p]`: the patch convolution as a matrix, rows in (channel, y, x) order.
    let patchWeight: LinearLayerMatrix
    /// The convolution's bias (SigLIP's; CLIP's has none).
    let patchBias: Tensor<Float>?
    /// CLIP's class token (nil under attention pooling).
    let classEmbedding: Tensor<Float>?
    /// `[leading + grid², width]`.
    let positionEmbeddings: Tensor<Float>
    /// CLIP's layer norm before the blocks (nil for SigLIP).
    let preNormWeight, preNormBias: Tensor<Float>?
    let postNormWeight, postNormBias: Tensor<Float>
    /// `[embeddingDimension, width]` (nil under attention pooling, whose output is the embedding).
    let projection: Tensor<Float>?
    /// SigLIP's attention-pooling head.
    let poolingHead: AttentionPoolingHead?
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
        let positions = configuration.gridSize * configuration.gridSize + configuration.leadingTokens
        guard configuration.gridSize > 0 else {
            throw SearchError(.invalidArgument, "image size \(configuration.imageSize) is smaller than the patch \(p)")
        }
        let naming = try CLIPNaming.resolve(naming, weights.header)
        var loader = WeightLoader(file: weights)
        switch (configuration.pooling, naming) {
        case (.classToken, .openAI):
            patchWeight = LinearLayerMatrix(try loader.take("visual.conv1.weight", shape: [w, 3, p, p]).reshaped([w, 3 * p * p]))
            patchBias = nil
            classEmbedding = try loader.take("visual.class_embedding", elementsOf: [w])
            positionEmbeddings = try loader.take("visual.positional_embedding", shape: [positions, w])
            preNormWeight = try loader.take("visual.ln_pre.weight", shape: [w])
            preNormBias = try loader.take("visual.ln_pre.bias", shape: [w])
            postNormWeight = try loader.take("visual.ln_post.weight", shape: [w])
            postNormBias = try loader.take("visual.ln_post.bias", shape: [w])
            projection = transposed(try loader.take("visual.proj", shape: [w, e]))
            poolingHead = nil
            stack = try TransformerStack(loading: &loader, keys: .openAI("visual."), geometry: configuration.geometry, precision: precision)
            try loader.finish(
                ignoringPrefixes: ["transformer.", "token_embedding.", "ln_final."],
                ignoringKeys: ["logit_scale", "positional_embedding", "text_projection", "attn_mask"])
        case (.classToken, .huggingFace):
            patchWeight = LinearLayerMatrix(
                try loader.take("vision_model.embeddings.patch_embedding.weight", shape: [w, 3, p, p]).reshaped([w, 3 * p * p]))
            patchBias = nil
            classEmbedding = try loader.take("vision_model.embeddings.class_embedding", elementsOf: [w])
            positionEmbeddings = try loader.take("vision_model.embeddings.position_embedding.weight", shape: [positions, w])
            preNormWeight = try loader.take("vision_model.pre_layrnorm.weight", shape: [w])
            preNormBias = try loader.take("vision_model.pre_layrnorm.bias", shape: [w])
            postNormWeight = try loader.take("vision_model.post_layernorm.weight", shape: [w])
            postNormBias = try loader.take("vision_model.post_layernorm.bias", shape: [w])
            projection = try loader.take("visual_projection.weight", shape: [e, w])
            poolingHead = nil
            stack = try TransformerStack(
                loading: &loader, keys: .huggingFaceCLIP("vision_model."), geometry: configuration.geometry, precision: precision)
            try loader.finish(
                ignoringPrefixes: ["text_model.", "text_projection."],
                ignoringKeys: ["logit_scale", "vision_model.embeddings.position_ids"])
        case (.attentionPool, _):
            guard e == w else {
                throw SearchError(
                    .invalidArgument,
                    "an attention-pooled tower's embedding is its width \(w), not \(e): it has no projection")
            }
            let names: SigLIPVisionKeys = naming == .huggingFace ? .huggingFace : .timm
            patchWeight = LinearLayerMatrix(try loader.take(names.patchWeight, shape: [w, 3, p, p]).reshaped([w, 3 * p * p]))
            patchBias = try loader.take(names.patchBias, shape: [w])
            classEmbedding = nil
            positionEmbeddings = try loader.take(names.positions, elementsOf: [positions, w])
            preNormWeight = nil
            preNormBias = nil
            postNormWeight = try loader.take(names.postNorm + ".weight", shape: [w])
            postNormBias = try loader.take(names.postNorm + ".bias", shape: [w])
            projection = nil
            stack = try TransformerStack(
                loading: &loader, keys: names.blocks, geometry: configuration.geometry, precision: precision)
            poolingHead = try AttentionPoolingHead(
                loading: &loader, prefix: names.headPrefix, keys: names.head, geometry: configuration.geometry)
            try loader.finish(ignoringPrefixes: names.otherTower, ignoringKeys: names.ignored)
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

    /// The shape of one preprocessed picture: 3 × ``preprocessor``'s crop
    /// (3 × ``CLIPVisionConfiguration/imageSize``² unless the preprocessor is changed).
    public var inputShape: ImageInputShape {
        ImageInputShape(channels: 3, height: preprocessor.cropHeight, width: preprocessor.cropWidth)
    }

    /// Embeds `images` into `output`, `images.count × dimension` floats.
    ///
    /// The batch is cut into forward passes by ``batching``. Within a pass,
    /// every picture is brought to ``inputShape`` in its slot of one buffer
    /// kept between calls — encoded ones decoded and preprocessed, RGB ones
    /// preprocessed (see ``preprocessor``), preprocessed ones copied — on
    /// ``BatchPolicy/preprocessingConcurrency`` threads, and the pass is
    /// embedded in one forward pass.
    ///
    /// A pass of at least ``picturesPerGroup`` pictures per thread
    /// (``threadCount``, else ``Tensor/BLAS/threadCount``) splits by pictures
    /// instead, where that is exact (CLIP's class-token pooling, FP32 weights on
    /// the packed GEMM): each thread preprocesses its share of the pictures into
    /// the buffer and runs the forward pass over them with one-thread GEMMs,
    /// and the final states are projected together. The embeddings are the
    /// same, bit for bit, as those of the pass unsplit.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/corruptData``,
    ///   ``SearchCore/SearchError/Code/unsupportedFormat`` or
    ///   ``SearchCore/SearchError/Code/resourceLimit`` from the decoder for
    ///   bytes it cannot or will not decode;
    ///   ``SearchCore/SearchError/Code/dimensionMismatch`` for preprocessed
    ///   pixels not of ``inputShape`` or an `output` of the wrong size;
    ///   ``SearchCore/SearchError/Code/invalidArgument`` or
    ///   ``SearchCore/SearchError/Code/resourceLimit`` for a ``preprocessor``
    ///   whose crop is smaller than one patch or past ``maximumPixelCount``.
    ///   An error about one picture names its position in `images`; when
    ///   several fail, the first by position is thrown.
    public func embed(images: [ImageInput], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        try SearchError.checkDimension(output.count, expected: images.count * dimension, "the output buffer")
        guard !images.isEmpty else { return }
        let shape = inputShape
        try checkSize(width: shape.width, height: shape.height, pixelCount: shape.floatCount)
        let threads = batching.preprocessingThreadsPerPass
        try batching.run(count: images.count, dimension: dimension, output: output) { (pass, out) throws(SearchError) in
            try self.inputs.withBuffer(count: pass.count * shape.floatCount) { (arena) throws(SearchError) in
                let groups = self.pictureGroups(count: pass.count)
                if groups > 1 {
                    // Each thread preprocesses its own group of pictures, then embeds them (see CLIPImageEncoder+Split).
                    let slots = ArenaSlots(base: arena, size: shape.floatCount)
                    try self.embed(
                        count: pass.count, groups: groups, slots: slots,
                        prepare: { group in
                            do throws(SearchError) {
                                let pictures = (pass.lowerBound + group.lowerBound)..<(pass.lowerBound + group.upperBound)
                                try self.preprocess(images, pictures, into: slots[group.lowerBound].baseAddress!, threads: 1)
                                return nil
                            } catch {
                                return error
                            }
                        },
                        into: out)
                    return
                }
                try self.preprocess(images, pass, into: arena, threads: threads)
                try self.embed(
                    count: pass.count, sizeOf: { _ in (shape.width, shape.height) },
                    pixelsOf: { i, body in body(UnsafeBufferPointer(start: arena + i * shape.floatCount, count: shape.floatCount)) },
                    into: out)
            }
        }
    }

    /// Writes the model input for one image into `output`
    /// (``inputShape``'s `floatCount` floats, channels first), exactly as
    /// ``embed(images:into:)`` does: encoded bytes are decoded (with
    /// ``decodingOptions``) and preprocessed, RGB pixels preprocessed,
    /// preprocessed pixels of ``inputShape`` copied.
    ///
    /// - Throws: the decoder's errors; ``SearchCore/SearchError/Code/dimensionMismatch``
    ///   for a wrongly sized `output` or preprocessed input of another shape.
    public func preprocess(_ image: ImageInput, into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        switch image {
        case .encoded(let bytes): try preprocessor.preprocess(encoded: bytes, into: output, decoding: decodingOptions)
        case .rgb(let pixels): try preprocessor.preprocess(pixels, into: output)
        case .preprocessed(let pixels, let width, let height):
            let shape = inputShape
            guard width == shape.width, height == shape.height, pixels.count == shape.floatCount else {
                throw SearchError(
                    .dimensionMismatch,
                    "a preprocessed image of \(width)×\(height) (\(pixels.count) floats) is not this encoder's input "
                        + "\(shape) (\(shape.floatCount) floats), which preprocess(_:into:) produces; embed(pixels:imageCount:width:height:into:) "
                        + "takes other sizes, with interpolated positional embeddings")
            }
            try SearchError.checkDimension(output.count, expected: shape.floatCount, "the output buffer")
            _ = output.update(fromContentsOf: pixels)
        }
    }

    /// Embeds `count` preprocessed pictures of ``inputShape`` laid end to end
    /// in `batch`, without copying them, in one forward pass (``batching``
    /// does not apply: the caller chose the batch; a large batch splits by
    /// pictures over the GEMM's threads, as in ``embed(images:into:)``).
    ///
    /// - Throws: ``SearchCore/SearchError/Code/dimensionMismatch`` when
    ///   `batch` is not `count × inputShape.floatCount` floats or `output` not
    ///   `count × dimension`; as ``embed(images:into:)`` for the ``preprocessor``'s crop.
    public func embed(
        preprocessed batch: UnsafeBufferPointer<Float>, count: Int, into output: UnsafeMutableBufferPointer<Float>
    ) throws(SearchError) {
        guard count >= 0 else { throw SearchError(.invalidArgument, "count \(count) is negative") }
        let shape = inputShape
        try SearchError.checkDimension(
            batch.count, expected: count * shape.floatCount, "a batch of \(count) preprocessed \(shape) images")
        try SearchError.checkDimension(output.count, expected: count * dimension, "the output buffer")
        guard count > 0 else { return }
        try checkSize(width: shape.width, height: shape.height, pixelCount: shape.floatCount)
        let groups = pictureGroups(count: count)
        if groups > 1 {
            // Only read: the slots are the caller's pictures.
            let slots = ArenaSlots(base: UnsafeMutablePointer(mutating: batch.baseAddress!), size: shape.floatCount)
            try embed(count: count, groups: groups, slots: slots, prepare: { _ in nil }, into: output)
            return
        }
        try embed(
            count: count, sizeOf: { _ in (shape.width, shape.height) },
            pixelsOf: { i, body in body(UnsafeBufferPointer(rebasing: batch[(i * shape.floatCount)..<((i + 1) * shape.floatCount)])) },
            into: output)
    }

    /// Preprocesses `images[pass]` into consecutive ``inputShape`` slots of
    /// `arena` on up to `threads` threads. Each thread takes the next image
    /// in order, so when one fails every earlier one has been taken and
    /// finishes: the error thrown is the first failure by position, whatever
    /// the timing.
    func preprocess(
        _ images: [ImageInput], _ pass: Range<Int>, into arena: UnsafeMutablePointer<Float>, threads: Int
    ) throws(SearchError) {
        let slots = ArenaSlots(base: arena, size: inputShape.floatCount)
        let workers = Swift.min(threads, pass.count)
        if workers <= 1 {
            for (slot, i) in pass.enumerated() {
                do throws(SearchError) {
                    try preprocess(images[i], into: slots[slot])
                } catch {
                    throw error.naming(position: i, of: images.count)
                }
            }
            return
        }
        let next = Atomic<Int>(0)
        let firstFailure = Mutex<(position: Int, error: SearchError)?>(nil)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let slot = next.add(1, ordering: .relaxed).oldValue
                guard slot < pass.count else { return }
                let i = pass.lowerBound + slot
                do throws(SearchError) {
                    try self.preprocess(images[i], into: slots[slot])
                } catch {
                    firstFailure.withLock { first in
                        if first == nil || i < first!.position { first = (i, error) }
                    }
                    // Every later image would be discarded; stop taking them.
                    _ = next.max(pass.count, ordering: .relaxed)
                    return
                }
            }
        }
        if let (position, error) = firstFailure.withLock({ $0 }) { throw error.naming(position: position, of: images.count) }
    }

    /// Embeds `imageCount` images of one size stored one after another in
    /// `pixels`, each channels-first (`imageCount × 3 × height × width`
    /// floats, normalised as the model expects), without copying them, in
    /// one forward pass (``batching`` does not apply: the caller chose the batch).
    ///
    /// This is the one way to embed pictures of a size other than
    /// ``inputShape``: at another size the patch positions are resampled to
    /// the new grid (see the type's discussion for the interpolation).
    /// ``SearchCore/ImageInput/preprocessed(_:width:height:)`` input of
    /// another size is a ``SearchCore/SearchError/Code/dimensionMismatch``.
    ///
    /// - Throws: ``SearchCore/SearchError/Code/dimensionMismatch`` when the
    ///   floats do not divide into `imageCount` images of `3 × width × height`
    ///   or `output` has the wrong size; ``SearchCore/SearchError/Code/invalidArgument``
    ///   for an image smaller than one patch; ``SearchCore/SearchError/Code/resourceLimit``
    ///   past ``maximumPixelCount``.
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
        try SearchError.checkDimension(output.count, expected: count * configuration.embeddingDimension, "the output buffer")
        if let threadCount { BLAS.threadCount = threadCount }
        var states = [Float](repeating: 0, count: count * configuration.width)
        let embedded = states.withUnsafeMutableBufferPointer { states in
            finalStates(count: count, sizeOf: sizeOf, pixelsOf: pixelsOf, threads: nil, into: states.baseAddress!)
        }
        if embedded { finish(states, count: count, into: output) }
    }

    /// Every image's final state, `width` floats each into `states`: the class
    /// token's after the post-norm (CLIP), or the attention-pooling head's
    /// output (SigLIP). The GEMMs, attention and layer norms split over
    /// `threads` threads (``Tensor/BLAS/threadCount`` when nil). Returns false,
    /// writing nothing, when the images have no tokens.
    func finalStates(
        count: Int, sizeOf: (Int) -> (width: Int, height: Int),
        pixelsOf: (Int, (UnsafeBufferPointer<Float>) -> Void) -> Void,
        threads: Int?, into states: UnsafeMutablePointer<Float>
    ) -> Bool {
        let w = configuration.width, p = configuration.patchSize
        var sequences: [Range<Int>] = []
        sequences.reserveCapacity(count)
        let leading = configuration.leadingTokens
        var tokens = 0
        for i in 0..<count {
            let (width, height) = sizeOf(i)
            let length = leading + (width / p) * (height / p)
            sequences.append(tokens..<(tokens + length))
            tokens += length
        }
        guard tokens > 0 else { return false }
        var resampled: (grid: (Int, Int), positions: Tensor<Float>)?
        let patchLength = 3 * p * p
        let patchCount = tokens - leading * count
        // Every image's patches as rows of one matrix, embedded by one GEMM, then each sequence
        // is the class token (CLIP) and its patches, plus the positional embeddings, in `x`.
        // Every row of `x` is written below, so the pool's buffer needs no clearing.
        patches.withBuffer(count: patchCount * (patchLength + w) + tokens * w) { scratch in
            let columns = scratch, embedded = scratch + patchCount * patchLength, x = embedded + patchCount * w
            var row = 0
            for (i, sequence) in sequences.enumerated() {
                let (width, height) = sizeOf(i)
                pixelsOf(i) { pixels in gatherPatches(pixels, width: width, height: height, into: columns + row * patchLength) }
                row += sequence.count - leading
            }
            if let patchBias {
                patchBias.withUnsafeBufferPointer { b in
                    patchWeight.apply(columns, rows: patchCount, bias: b.baseAddress!, into: embedded, threads: threads)
                }
            } else {
                patchWeight.apply(columns, rows: patchCount, bias: nil, into: embedded, threads: threads)
            }
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
                    let first = x + sequence.lowerBound * w
                    if let classEmbedding {
                        classEmbedding.withUnsafeBufferPointer { cls in
                            for j in 0..<w { first[j] = cls[j] + pos[j] }
                        }
                    } else {
                        first.update(repeating: 0, count: leading * w)
                    }
                    for t in leading..<sequence.count {
                        let out = first + t * w, q = pos.baseAddress! + t * w
                        let patch = embedded + (row + t - leading) * w
                        for j in 0..<w { out[j] = patch[j] + q[j] }
                    }
                }
                row += sequence.count - leading
            }
            if let preNormWeight, let preNormBias {
                preNormWeight.withUnsafeBufferPointer { g in
                    preNormBias.withUnsafeBufferPointer { b in
                        for t in 0..<tokens {
                            FastMath.layerNorm(
                                x + t * w, count: w, gamma: g.baseAddress!, beta: b.baseAddress!,
                                epsilon: configuration.layerNormEpsilon)
                        }
                    }
                }
            }
            postNormWeight.withUnsafeBufferPointer { g in
                postNormBias.withUnsafeBufferPointer { b in
                    let g = g.baseAddress!, b = b.baseAddress!, eps = configuration.layerNormEpsilon
                    if let poolingHead {
                        // The head attends over every final state, each layer-normed first.
                        stack(x, sequences: sequences, threads: threads)
                        for t in 0..<tokens { FastMath.layerNorm(x + t * w, count: w, gamma: g, beta: b, epsilon: eps) }
                        poolingHead(x, sequences: sequences, into: states)
                    } else {
                        // Only the class tokens' final states are read (by the post-norm and projection).
                        stack(x, sequences: sequences, keeping: sequences.map(\.lowerBound), threads: threads)
                        for (i, s) in sequences.enumerated() {
                            let state = states + i * w
                            state.update(from: x + s.lowerBound * w, count: w)
                            FastMath.layerNorm(state, count: w, gamma: g, beta: b, epsilon: eps)
                        }
                    }
                }
            }
        }
        return true
    }

    /// The embeddings of `count` images from their ``finalStates(count:sizeOf:pixelsOf:threads:into:)``:
    /// projected (CLIP) or copied (SigLIP), then scaled to unit length when ``normalizes``.
    func finish(_ states: [Float], count: Int, into output: UnsafeMutableBufferPointer<Float>) {
        let w = configuration.width
        states.withUnsafeBufferPointer { states in
            let states = states.baseAddress!
            if let projection {
                project(states, count: count, projection, into: output, normalizes: normalizes)
            } else {
                output.baseAddress!.update(from: states, count: count * w)
                if normalizes {
                    for i in 0..<count {
                        VectorMath.l2Normalize(UnsafeMutableBufferPointer(rebasing: output[(i * w)..<((i + 1) * w)]))
                    }
                }
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
    /// position (CLIP's) as stored, the patch positions resampled bicubically.
    func resampledPositions(rows: Int, columns: Int) -> Tensor<Float> {
        let w = configuration.width, g = configuration.gridSize, leading = configuration.leadingTokens
        var result = Tensor<Float>(shape: [leading + rows * columns, w])
        positionEmbeddings.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { target in
                for j in 0..<(leading * w) { target[j] = source[j] }
                let ys = Bicubic.taps(input: g, output: rows)
                let xs = Bicubic.taps(input: g, output: columns)
                for r in 0..<rows {
                    for c in 0..<columns {
                        let out = target.baseAddress! + (leading + r * columns + c) * w
                        for j in 0..<w { out[j] = 0 }
                        for (yi, yw) in ys[r] {
                            for (xi, xw) in xs[c] {
                                let weight = yw * xw
                                let from = source.baseAddress! + (leading + yi * g + xi) * w
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

extension SearchError {
    /// This error with its message prefixed by the failing picture's position in a batch.
    fileprivate func naming(position: Int, of count: Int) -> SearchError {
        SearchError(code, "image \(position) of \(count): \(message)", underlying: underlying)
    }
}
