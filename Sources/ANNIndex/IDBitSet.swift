import SearchCore

/// An allow-list as a bitset over identifier values: one bit per id from 0
/// to the largest allowed, so `allows` is a shift and a mask.
///
/// The filter to use when ids are dense integers (row numbers, catalogue
/// positions) and the allowed set is large; ``AllowList`` hashes instead.
///
/// ```swift
/// let inStock = IDBitSet(stockedIDs)
/// let hits = try index.search(query, k: 10, filter: inStock)
/// ```
public struct IDBitSet: SearchFilter {
    @usableFromInline let words: [UInt64]
    /// How many identifiers are allowed.
    public let count: Int

    /// Allows exactly `ids`.
    ///
    /// - Complexity: O(max id / 64 + `ids.count`) time and max id / 8 bytes.
    public init<S: Sequence>(_ ids: S) where S.Element == VectorID {
        var words: [UInt64] = []
        var count = 0
        for id in ids {
            let word = Int(id.rawValue >> 6)
            if word >= words.count { words.append(contentsOf: repeatElement(0, count: word + 1 - words.count)) }
            let bit = UInt64(1) << (id.rawValue & 63)
            if words[word] & bit == 0 { count += 1 }
            words[word] |= bit
        }
        self.words = words
        self.count = count
    }

    @inlinable
    public func allows(_ id: VectorID) -> Bool {
        let word = id.rawValue >> 6
        guard word < UInt64(words.count) else { return false }
        return words[Int(word)] & (UInt64(1) << (id.rawValue & 63)) != 0
    }

    /// Calls `body` with every allowed identifier, in increasing order.
    public func forEach(_ body: (VectorID) throws -> Void) rethrows {
        for (w, word) in words.enumerated() {
            var bits = word
            while bits != 0 {
                let bit = bits.trailingZeroBitCount
                try body(VectorID(UInt64(w) << 6 | UInt64(bit)))
                bits &= bits - 1
            }
        }
    }
}
