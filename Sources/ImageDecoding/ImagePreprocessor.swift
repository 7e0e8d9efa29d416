import SearchCore

/// Turns an image into a model's input tensor: shorter side resized with
/// Pillow's exact bicubic, centre crop, scale to [0, 1], subtract the mean,
/// divide by the standard deviation, channels first.
///
/// ``clip`` reproduces OpenAI CLIP's `preprocess` (torchvision `Resize(224,
/// BICUBIC)`, `CenterCrop(224)`, `ToTensor`, `Normalize`) on the same pixels.
///
/// ```swift
/// let prep = ImagePreprocessor.clip
/// var input = [Float](repeating: 0, count: prep.outputCount)
/// try input.withUnsafeMutableBufferPointer { try prep.preprocess(encoded: jpegBytes, into: $0) }
/// ```
public struct ImagePreprocessor: Sendable, Hashable {
    /// How the centre crop's offset is rounded when the margin is odd.
    public enum CropRounding: Sendable, Hashable {
        /// `round(margin / 2)` with ties to even, as torchvision's `CenterCrop`
        /// (Python's `round`).
        case torchvision
        /// `margin / 2` rounded down.
        case floor
    }

    /// How the picture is brought to the crop's size before cropping.
    public enum ResizeMode: Sendable, Hashable {
        /// The shorter side to ``shortSide``, the aspect ratio kept, then a
        /// centre crop (OpenAI CLIP, Hugging Face `CLIPImageProcessor`,
        /// open_clip's `resize_mode` `shortest`).
        case shortestSide
        /// Both sides straight to the crop's size, the aspect ratio not kept,
        /// nothing cropped (Hugging Face `SiglipImageProcessor`, open_clip's
        /// `resize_mode` `squash`).
        case squash
    }

    /// The length the shorter side is resized to; the longer side keeps the
    /// aspect ratio, truncated as torchvision does (`int(size · long / short)`).
    public var shortSide: Int
    /// The output width.
    public var cropWidth: Int
    /// The output height.
    public var cropHeight: Int
    /// Per-channel mean, in [0, 1] units, R G B.
    public var mean: [Float]
    /// Per-channel standard deviation, in [0, 1] units, R G B.
    public var std: [Float]
    /// The resampling filter.
    public var filter: ResamplingFilter
    /// How the crop offset is rounded.
    public var cropRounding: CropRounding
    /// The fast path, off by default: when set, a JPEG is decoded at a reduced
    /// DCT scale (1/2, 1/4, 1/8 …, straight from the coefficients) whose
    /// shorter side is still at least `dctHeadroom × shortSide`, before the
    /// bicubic resize. nil (the default) decodes every JPEG at full size, so
    /// the model input equals Pillow's CLIP preprocessing bit for bit, as
    /// the committed fixtures of 64 to 1411 pixels a side check.
    ///
    /// A reduced-scale decode is a different picture from a full decode
    /// followed by Pillow's antialiasing resize. Measured with headroom 2 on
    /// the committed JPEG fixtures (detailed synthetic photos; `mms-bench
    /// preprocess`), against the exact path, in CLIP's normalised units (one
    /// grey level is about 0.015) and as the cosine between the two ViT-B/32
    /// embeddings (full-size geometry, seeded random weights):
    ///
    /// | JPEG | scale | max abs | mean abs | cosine |
    /// | --- | --- | --- | --- | --- |
    /// | 64², 224², 500 × 375, 640 × 480, 480 × 640 | full (none fits) | 0 | 0 | 1 |
    /// | 512 × 512 | 7/8 | 0.42 | 0.043 | 0.99991 |
    /// | 800 × 600, progressive | 3/4 | 0.35 | 0.034 | 0.99987 |
    /// | 901 × 677, 4:2:0 | 3/4 | 0.32 | 0.038 | 0.99984 |
    /// | 1024 × 768 | 5/8 | 0.19 | 0.025 | 0.99998 |
    /// | 1411 × 1411 | 3/8 | 0.89 | 0.028 | 0.99978 |
    ///
    /// The worst pixel grows with the image (more detail is folded into each
    /// DCT block); the embeddings move little, but retrieval that must match
    /// the reference (parity checks, embeddings mixed with ones computed in
    /// Python) needs the exact path. In return a large JPEG decodes and
    /// preprocesses faster: about 2× at 1411 × 1411 and several times at
    /// 12 megapixels (`mms-bench encoders`, `decode_preprocess_12mp_dct`);
    /// at 7/8 (a 512-pixel side) it can be slower than the full decode.
    /// Set it where speed on large photos matters more than agreement with
    /// the reference; 1 is faster still and further off.
    public var dctHeadroom: Double?
    /// Shorter side then crop (the default), or straight to the crop's size.
    public var resizeMode: ResizeMode = .shortestSide

    /// A preprocessor with these parameters (see the properties).
    public init(
        shortSide: Int, cropWidth: Int, cropHeight: Int, mean: [Float], std: [Float],
        filter: ResamplingFilter = .bicubic, cropRounding: CropRounding = .torchvision, dctHeadroom: Double? = nil
    ) {
        self.shortSide = shortSide
        self.cropWidth = cropWidth
        self.cropHeight = cropHeight
        self.mean = mean
        self.std = std
        self.filter = filter
        self.cropRounding = cropRounding
        self.dctHeadroom = dctHeadroom
    }

    /// OpenAI CLIP's preprocessing at 224 pixels, equal to Pillow's on every
    /// picture (no DCT scaling; see ``dctHeadroom`` for the faster, inexact path).
    public static let clip = ImagePreprocessor(
        shortSide: 224, cropWidth: 224, cropHeight: 224,
        mean: [0.481_454_66, 0.457_827_5, 0.408_210_73],
        std: [0.268_629_54, 0.261_302_58, 0.275_777_11])

    /// The number of floats one image becomes: 3 × cropHeight × cropWidth.
    public var outputCount: Int { 3 * cropWidth * cropHeight }

    /// The resized size for an upright image of `width` × `height`.
    public func resizedSize(width: Int, height: Int) -> (width: Int, height: Int) {
        if resizeMode == .squash { return (cropWidth, cropHeight) }
        if width <= height {
            return (shortSide, Int(Double(shortSide * height) / Double(width)))
        }
        return (Int(Double(shortSide * width) / Double(height)), shortSide)
    }

    private func cropOffset(_ margin: Int) -> Int {
        switch cropRounding {
        case .floor: return margin >= 0 ? margin / 2 : -((-margin + 1) / 2)
        case .torchvision: return Int((Double(margin) / 2).rounded(.toNearestOrEven))
        }
    }

    private func validate(_ output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        guard shortSide > 0, cropWidth > 0, cropHeight > 0, mean.count == 3, std.count == 3,
            std.allSatisfy({ $0 != 0 && $0.isFinite })
        else {
            throw SearchError(
                .invalidArgument,
                "preprocessing needs positive sizes and three means and non-zero standard deviations")
        }
        guard output.count == outputCount else {
            throw SearchError(
                .dimensionMismatch, "the output buffer holds \(output.count) floats; one image needs \(outputCount)")
        }
    }

    /// Writes the model input for `image` into `output` (3 × cropHeight × cropWidth floats, channels first).
    public func preprocess(_ image: RGBImage, into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        try validate(output)
        let size = resizedSize(width: image.width, height: image.height)
        guard size.width > 0, size.height > 0 else {
            throw SearchError(.invalidArgument, "a \(image.width)×\(image.height) image resizes to nothing")
        }
        let resized = Resampler.resize(image, width: size.width, height: size.height, filter: filter)
        let top = cropOffset(size.height - cropHeight), left = cropOffset(size.width - cropWidth)
        let plane = cropWidth * cropHeight
        resized.pixels.withUnsafeBufferPointer { px in
            for c in 0..<3 {
                let m = mean[c], s = std[c]
                // torchvision pads a crop larger than the image with zeros before normalising.
                let padded = (0 - m) / s
                for y in 0..<cropHeight {
                    let sy = y + top
                    for x in 0..<cropWidth {
                        let sx = x + left
                        let value: Float
                        if sy >= 0, sy < size.height, sx >= 0, sx < size.width {
                            value = (Float(px[(sy * size.width + sx) * 3 + c]) / 255 - m) / s
                        } else {
                            value = padded
                        }
                        output[c * plane + y * cropWidth + x] = value
                    }
                }
            }
        }
    }

    /// Decodes a JPEG or PNG (upright; at full size unless ``dctHeadroom``
    /// or `options.minimumShortSide` allows DCT downscaling) and writes its
    /// model input into `output`.
    public func preprocess(
        encoded bytes: [UInt8], into output: UnsafeMutableBufferPointer<Float>,
        decoding options: DecodingOptions = .init()
    ) throws(SearchError) {
        try validate(output)
        var options = options
        if let headroom = dctHeadroom, options.minimumShortSide == nil {
            options.minimumShortSide = Int((headroom * Double(shortSide)).rounded(.up))
        }
        let image = try ImageDecoder.decode(bytes, options: options)
        try preprocess(image, into: output)
    }
}
