/// A hash table from byte strings to `Int32` values, for the indexer's hot
/// path: keys live back to back in one array, lookups hash the bytes in
/// place, so adding a word costs no `String` and no allocation per word.
///
/// Open addressing with linear probing over a power-of-two slot array; each
/// slot keeps the key's index and its hash's high bits, so most mismatches
/// are rejected without touching the key bytes. Grows at 50% load.
struct ByteStringTable {
    /// The keys' bytes, back to back; key `i` is `keyBytes[keyStarts[i]..<keyStarts[i + 1]]`.
    private(set) var keyBytes: [UInt8] = []
    private(set) var keyStarts: [UInt32] = [0]
    private(set) var values: [Int32] = []
    /// Per slot: key index + 1 (0 = empty) in the low 32 bits, hash tag in the high 32.
    private var slots: [UInt64]
    private var mask: Int

    init(capacity: Int = 1024) {
        var n = 16
        while n < capacity * 2 { n <<= 1 }
        slots = [UInt64](repeating: 0, count: n)
        mask = n - 1
    }

    /// The number of keys.
    var count: Int { values.count }

    /// The bytes of key `i`.
    func key(_ i: Int) -> ArraySlice<UInt8> {
        keyBytes[Int(keyStarts[i])..<Int(keyStarts[i + 1])]
    }

    /// A 64-bit hash of `bytes` (multiply-xorshift over 8-byte words; not keyed:
    /// the table holds one index's own vocabulary, and a flood of colliding
    /// keys costs time, never correctness).
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        guard let base = bytes.baseAddress else { return h }
        let raw = UnsafeRawPointer(base)
        var i = 0
        let n = bytes.count
        while i + 8 <= n {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ w) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            i += 8
        }
        if i < n {
            var w: UInt64 = 0
            var shift: UInt64 = 0
            while i < n {
                w |= UInt64(base[i]) << shift
                shift += 8
                i += 1
            }
            h = (h ^ w) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
        }
        h = (h ^ (h >> 29)) &* 0xC4CE_B9FE_1A85_EC53
        return h ^ (h >> 32)
    }

    @inline(__always)
    private func equals(_ index: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = Int(keyStarts[index]), end = Int(keyStarts[index + 1])
        guard end - start == bytes.count else { return false }
        return keyBytes.withUnsafeBufferPointer { stored in
            var j = 0
            while j < bytes.count {
                if stored[start + j] != bytes[j] { return false }
                j += 1
            }
            return true
        }
    }

    /// The index of key `bytes` (its hash given), if present.
    @inline(__always)
    func find(_ bytes: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int? {
        let tag = hash >> 32
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let s = slots[slot]
            if s == 0 { return nil }
            if s >> 32 == tag {
                let index = Int(s & 0xFFFF_FFFF) - 1
                if equals(index, bytes) { return index }
            }
            slot = (slot + 1) & mask
        }
    }

    /// The value of key `bytes`, if present.
    @inline(__always)
    func value(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32? {
        find(bytes, hash: Self.hash(bytes)).map { values[$0] }
    }

    /// Adds key `bytes` (absent: check with ``find(_:hash:)`` first) with `value`; returns its index.
    @discardableResult
    mutating func insert(_ bytes: UnsafeBufferPointer<UInt8>, hash: UInt64, value: Int32) -> Int {
        let index = values.count
        values.append(value)
        keyBytes.append(contentsOf: bytes)
        keyStarts.append(UInt32(keyBytes.count))
        if (index + 1) * 2 > slots.count { grow() } else { place(index, hash: hash) }
        return index
    }

    @inline(__always)
    private mutating func place(_ index: Int, hash: UInt64) {
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = (hash >> 32) << 32 | UInt64(index + 1)
    }

    private mutating func grow() {
        slots = [UInt64](repeating: 0, count: slots.count * 2)
        mask = slots.count - 1
        for i in 0..<values.count {
            let h = keyBytes.withUnsafeBufferPointer { Self.hash(UnsafeBufferPointer(rebasing: $0[Int(keyStarts[i])..<Int(keyStarts[i + 1])])) }
            place(i, hash: h)
        }
    }
}
