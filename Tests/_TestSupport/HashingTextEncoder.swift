import SearchCore

/// A deterministic stand-in for a sentence encoder: each lower-cased word
/// (letters and digits) adds one to a component chosen by a stable hash of
/// the word, so texts that share words are close and the same text always
/// gives the same vector, on every machine, with no model file.
///
/// ```swift
/// let engine = try SearchEngine(configuration: .init(textEncoder: HashingTextEncoder(), textEncoderName: "hashing"))
/// ```
public struct HashingTextEncoder: TextEncoder {
    public let dimension: Int

    /// An encoder of `dimension` components (64 by default).
    public init(dimension: Int = 64) {
        precondition(dimension > 1, "a hashing encoder needs at least two components")
        self.dimension = dimension
    }

    /// Writes one vector per text; a text with no word gets a fixed direction so it is never zero.
    public func embed(texts: [String], into output: UnsafeMutableBufferPointer<Float>) throws(SearchError) {
        try SearchError.checkDimension(output.count, expected: texts.count * dimension, "the output buffer")
        for (t, text) in texts.enumerated() {
            let row = UnsafeMutableBufferPointer(rebasing: output[(t * dimension)..<((t + 1) * dimension)])
            row.update(repeating: 0)
            var words = 0
            for word in text.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }) {
                var hash: UInt64 = 0xcbf2_9ce4_8422_2325
                for byte in word.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
                row[Int(hash % UInt64(dimension))] += 1
                words += 1
            }
            if words == 0 { row[0] = 1 }
        }
    }
}
