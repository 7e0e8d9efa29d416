import SearchCore

/// A resampling filter, with Pillow's definitions.
public enum ResamplingFilter: Sendable, Hashable {
    /// Triangle filter, support 1 (Pillow `BILINEAR`).
    case bilinear
    /// Keys' cubic convolution with a = −0.5, support 2 (Pillow `BICUBIC`,
    /// what CLIP's preprocessing uses).
    case bicubic
    /// Lanczos windowed sinc, support 3 (Pillow `LANCZOS`).
    case lanczos

    var support: Double {
        switch self {
        case .bilinear: 1
        case .bicubic: 2
        case .lanczos: 3
        }
    }

    func weight(_ t: Double) -> Double {
        let x = abs(t)
        switch self {
        case .bilinear:
            return x < 1 ? 1 - x : 0
        case .bicubic:
            let a = -0.5
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        case .lanczos:
            if x >= 3 { return 0 }
            return Self.sinc(x) * Self.sinc(x / 3)
        }
    }

    private static func sinc(_ x: Double) -> Double {
        if x == 0 { return 1 }
        let px = Double.pi * x
        return _sin(px) / px
    }
}

/// Resizes 8-bit RGB images exactly as Pillow's `Image.resize` does, bit for
/// bit: a separable convolution, horizontal pass first, whose support widens
/// with the reduction factor (so shrinking is antialiased), with weights in
/// 22-bit fixed point and the intermediate image rounded to 8 bits.
public enum Resampler {
    /// Pillow's fixed-point precision for 8-bit images: 32 − 8 − 2 bits.
    static let precisionBits = 22

    /// Per output position: the first input index, the tap count, and taps
    /// (`taps` per position, zero padded), as Pillow's `precompute_coeffs`
    /// followed by `normalize_coeffs_8bpc`.
    struct Coefficients {
        var starts: [Int]
        var counts: [Int]
        var taps: Int
        var weights: [Int32]
    }

    static func coefficients(inSize: Int, outSize: Int, filter: ResamplingFilter) -> Coefficients {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let taps = Int(support.rounded(.up)) * 2 + 1
        var starts = [Int](repeating: 0, count: outSize)
        var counts = [Int](repeating: 0, count: outSize)
        var weights = [Int32](repeating: 0, count: outSize * taps)
        var row = [Double](repeating: 0, count: taps)
        let inverseFilterScale = 1 / filterScale
        let one = Double(1 << precisionBits)
        for xx in 0..<outSize {
            let center = (Double(xx) + 0.5) * scale
            // C's (int) conversion truncates toward zero.
            var xmin = Int((center - support + 0.5).rounded(.towardZero))
            if xmin < 0 { xmin = 0 }
            var xmax = Int((center + support + 0.5).rounded(.towardZero))
            if xmax > inSize { xmax = inSize }
            xmax -= xmin
            var total = 0.0
            for x in 0..<xmax {
                let w = filter.weight((Double(x + xmin) - center + 0.5) * inverseFilterScale)
                row[x] = w
                total += w
            }
            for x in 0..<xmax {
                let w = total != 0 ? row[x] / total : row[x]
                weights[xx * taps + x] = Int32(w < 0 ? (-0.5 + w * one).rounded(.towardZero) : (0.5 + w * one).rounded(.towardZero))
            }
            starts[xx] = xmin
            counts[xx] = xmax
        }
        return Coefficients(starts: starts, counts: counts, taps: taps, weights: weights)
    }

    @inline(__always)
    static func clip8(_ value: Int32) -> UInt8 {
        let shifted = value >> Int32(precisionBits)  // arithmetic: floors negatives
        return shifted < 0 ? 0 : shifted > 255 ? 255 : UInt8(shifted)
    }

    /// `image` resized to `width` × `height` with `filter`.
    ///
    /// - Precondition: `width` and `height` are positive.
    public static func resize(_ image: RGBImage, width: Int, height: Int, filter: ResamplingFilter = .bicubic) -> RGBImage {
        precondition(width > 0 && height > 0, "resize to \(width)×\(height)")
        if width == image.width && height == image.height { return image }
        let vertical = coefficients(inSize: image.height, outSize: height, filter: filter)
        var source = image.pixels
        var sourceWidth = image.width, sourceHeight = image.height
        var rowOffset = 0
        var vStarts = vertical.starts
        if width != image.width {
            // Only rows the vertical pass will read are resampled, as Pillow does.
            let first = vertical.starts[0]
            let last = vertical.starts[height - 1] + vertical.counts[height - 1]
            let horizontal = coefficients(inSize: image.width, outSize: width, filter: filter)
            source = horizontalPass(
                source, width: image.width, rows: first..<last, outWidth: width, coefficients: horizontal)
            sourceWidth = width
            sourceHeight = last - first
            rowOffset = first
            if height != image.height { vStarts = vStarts.map { $0 - rowOffset } }
        }
        if height == image.height {
            return RGBImage(validatedWidth: sourceWidth, height: sourceHeight, pixels: source)
        }
        var v = vertical
        v.starts = vStarts
        let out = verticalPass(source, width: sourceWidth, outHeight: height, coefficients: v)
        return RGBImage(validatedWidth: width, height: height, pixels: out)
    }

    private static func horizontalPass(
        _ pixels: [UInt8], width: Int, rows: Range<Int>, outWidth: Int, coefficients c: Coefficients
    ) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: outWidth * rows.count * 3)
        let half = Int32(1 << (precisionBits - 1))
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                c.weights.withUnsafeBufferPointer { k in
                    for (r, y) in rows.enumerated() {
                        let line = src.baseAddress! + y * width * 3
                        let outLine = dst.baseAddress! + r * outWidth * 3
                        for xx in 0..<outWidth {
                            let start = c.starts[xx], count = c.counts[xx]
                            let weights = k.baseAddress! + xx * c.taps
                            var s0 = half, s1 = half, s2 = half
                            var p = line + start * 3
                            for t in 0..<count {
                                let w = weights[t]
                                s0 &+= Int32(p[0]) &* w
                                s1 &+= Int32(p[1]) &* w
                                s2 &+= Int32(p[2]) &* w
                                p += 3
                            }
                            outLine[xx * 3] = clip8(s0)
                            outLine[xx * 3 + 1] = clip8(s1)
                            outLine[xx * 3 + 2] = clip8(s2)
                        }
                    }
                }
            }
        }
        return out
    }

    private static func verticalPass(
        _ pixels: [UInt8], width: Int, outHeight: Int, coefficients c: Coefficients
    ) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width * outHeight * 3)
        let half = Int32(1 << (precisionBits - 1))
        let rowBytes = width * 3
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                c.weights.withUnsafeBufferPointer { k in
                    var sums = [Int32](repeating: 0, count: rowBytes)
                    sums.withUnsafeMutableBufferPointer { acc in
                        for yy in 0..<outHeight {
                            let start = c.starts[yy], count = c.counts[yy]
                            let weights = k.baseAddress! + yy * c.taps
                            for i in 0..<rowBytes { acc[i] = half }
                            for t in 0..<count {
                                let w = weights[t]
                                let line = src.baseAddress! + (start + t) * rowBytes
                                for i in 0..<rowBytes { acc[i] &+= Int32(line[i]) &* w }
                            }
                            let outLine = dst.baseAddress! + yy * rowBytes
                            for i in 0..<rowBytes { outLine[i] = clip8(acc[i]) }
                        }
                    }
                }
            }
        }
        return out
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) private func _sin(_ x: Double) -> Double { Glibc.sin(x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) private func _sin(_ x: Double) -> Double { Darwin.sin(x) }
#endif
