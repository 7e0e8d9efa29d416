/// The keys that authorise writes, compared in constant time.
struct APIKeys: Sendable {
    private let keys: [[UInt8]]

    init(_ keys: [String]) { self.keys = keys.filter { !$0.isEmpty }.map { Array($0.utf8) } }

    /// Whether `presented` is one of the keys. Every key is compared whole,
    /// whatever matched before, and each comparison takes time that depends
    /// on the lengths alone, never on where the bytes first differ.
    func accepts(_ presented: String?) -> Bool {
        guard let presented else { return false }
        let candidate = Array(presented.utf8)
        var matched: UInt8 = 0
        for key in keys { matched |= Self.constantTimeEqual(candidate, key) ? 1 : 0 }
        return matched == 1
    }

    /// Byte equality whose time does not depend on the contents: every byte
    /// of the longer input is visited and differences are OR-ed together.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count) | (a.count == b.count ? 0 : 1)
        let n = max(a.count, b.count)
        for i in 0..<n {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}
