import SearchCore
import StoragePrimitives
import Tensor

/// The engagement store's snapshot file, byte by byte. Every integer and
/// float is little-endian; floats are IEEE-754 binary64.
///
/// | offset | size | field |
/// | --- | --- | --- |
/// | 0 | 8 | magic, ASCII `MMSENGST` |
/// | 8 | 4 | format version, UInt32 = 1 |
/// | 12 | 4 | reserved, 0 |
/// | 16 | 8 | half-life in seconds, Float64 |
/// | 24 | 8 | latest event time, seconds since 1970, Float64 |
/// | 32 | 8 | item count n, UInt64 |
/// | 40 | 8 | pair count m, UInt64 |
/// | 48 | 64 | priors: (α, β) Float64 pairs for click, save, hide, purchase |
/// | 112 | 56·n | items, ascending id: id UInt64, time Float64, counts ×5 Float64 (impression, click, save, hide, purchase) |
/// | 112 + 56·n | 64·m | pairs, ascending (user, item): user UInt64, item UInt64, time Float64, counts ×5 Float64 |
/// | end − 8 | 4 | CRC-32C of every byte before it, UInt32 |
/// | end − 4 | 4 | footer magic, ASCII `MMSE` |
///
/// A reader checks the footer magic, the checksum, the header magic and
/// version, that the counts account for the length exactly, and that every
/// value is finite and in range, before it trusts any of it.
enum EngagementSnapshotFormat {
    static let magic: [UInt8] = Array("MMSENGST".utf8)
    static let footerMagic: [UInt8] = Array("MMSE".utf8)
    static let version: UInt32 = 1
    static let headerSize = 112
    static let footerSize = 8
    static let itemSize = 56
    static let pairSize = 64
}

extension EngagementStore {
    /// The snapshot's bytes (see the format above), entries sorted so equal
    /// stores give identical files.
    public func snapshotBytes() -> [UInt8] {
        let s = state.withLock { $0 }
        typealias F = EngagementSnapshotFormat
        var out: [UInt8] = []
        out.reserveCapacity(F.headerSize + s.items.count * F.itemSize + s.pairs.count * F.pairSize + F.footerSize)
        out += F.magic
        LittleEndian.append(F.version, to: &out)
        LittleEndian.append(UInt32(0), to: &out)
        LittleEndian.append(configuration.halfLife.bitPattern, to: &out)
        LittleEndian.append(s.latest.bitPattern, to: &out)
        LittleEndian.append(UInt64(s.items.count), to: &out)
        LittleEndian.append(UInt64(s.pairs.count), to: &out)
        for prior in [s.priors.click, s.priors.save, s.priors.hide, s.priors.purchase] {
            LittleEndian.append(prior.alpha.bitPattern, to: &out)
            LittleEndian.append(prior.beta.bitPattern, to: &out)
        }
        func appendCounts(_ c: EngagementCounts) {
            LittleEndian.append(c.time.bitPattern, to: &out)
            for slot in 0..<5 { LittleEndian.append(c.values[slot].bitPattern, to: &out) }
        }
        for (id, c) in s.items.sorted(by: { $0.key < $1.key }) {
            LittleEndian.append(id.rawValue, to: &out)
            appendCounts(c)
        }
        for (key, c) in s.pairs.sorted(by: { ($0.key.user, $0.key.item) < ($1.key.user, $1.key.item) }) {
            LittleEndian.append(key.user, to: &out)
            LittleEndian.append(key.item, to: &out)
            appendCounts(c)
        }
        let crc = out.withUnsafeBytes { CRC32C.checksum($0) }
        LittleEndian.append(crc, to: &out)
        out += F.footerMagic
        return out
    }

    /// Writes a snapshot to `path` atomically (temporary file, fsync, rename,
    /// directory fsync): after it returns the snapshot survives a crash, and a
    /// reader never sees a torn file.
    ///
    /// - Throws: ``SearchError/Code/io`` naming the path and the system's reason.
    public func write(to path: String) throws(SearchError) {
        try AtomicFile.replace(path, with: [snapshotBytes()])
    }

    /// Loads a store from a snapshot file; the half-life is the file's, the
    /// capacity limits are `configuration`'s.
    ///
    /// - Throws: ``SearchError/Code/notFound`` for a missing file,
    ///   ``SearchError/Code/corruptData`` saying which check failed (footer,
    ///   checksum, magic, length, a value out of range),
    ///   ``SearchError/Code/unsupportedFormat`` for a newer version.
    public convenience init(snapshotAt path: String, configuration: Configuration = Configuration())
        throws(SearchError)
    {
        try self.init(snapshot: SystemCalls.readFile(path, limit: 1 << 34), configuration: configuration, source: path)
    }

    /// Loads a store from snapshot bytes (see ``init(snapshotAt:configuration:)``).
    public convenience init(snapshot bytes: [UInt8], configuration: Configuration = Configuration(), source: String = "snapshot")
        throws(SearchError)
    {
        typealias F = EngagementSnapshotFormat
        func corrupt(_ why: String) -> SearchError {
            SearchError(.corruptData, "engagement snapshot `\(source)`: \(why); nothing was loaded")
        }
        guard bytes.count >= F.headerSize + F.footerSize else {
            throw corrupt("\(bytes.count) bytes is shorter than the \(F.headerSize + F.footerSize)-byte header and footer")
        }
        guard Array(bytes[(bytes.count - 4)...]) == F.footerMagic else {
            throw corrupt("no footer magic `MMSE` (truncated or not a snapshot)")
        }
        let stored = LittleEndian.read(UInt32.self, bytes, at: bytes.count - 8)
        let computed = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<(bytes.count - 8)])) }
        guard stored == computed else {
            throw corrupt("checksum mismatch (stored CRC-32C \(stored), computed \(computed))")
        }
        guard Array(bytes[0..<8]) == F.magic else { throw corrupt("header magic is not `MMSENGST`") }
        let version = LittleEndian.read(UInt32.self, bytes, at: 8)
        guard version == F.version else {
            throw SearchError(.unsupportedFormat,
                "engagement snapshot `\(source)` has format version \(version); this build reads version \(F.version)")
        }
        let halfLife = Double(bitPattern: LittleEndian.read(UInt64.self, bytes, at: 16))
        let latest = Double(bitPattern: LittleEndian.read(UInt64.self, bytes, at: 24))
        let itemCount = LittleEndian.read(UInt64.self, bytes, at: 32)
        let pairCount = LittleEndian.read(UInt64.self, bytes, at: 40)
        let body = UInt64(bytes.count - F.headerSize - F.footerSize)
        guard itemCount <= body / UInt64(F.itemSize), pairCount <= body / UInt64(F.pairSize),
            itemCount * UInt64(F.itemSize) + pairCount * UInt64(F.pairSize) == body
        else {
            throw corrupt("\(itemCount) items and \(pairCount) pairs do not account for \(body) bytes of entries")
        }
        guard halfLife > 0, halfLife.isFinite, latest.isFinite else {
            throw corrupt("half-life \(halfLife) or latest time \(latest) is out of range")
        }
        var priors: [BetaPrior] = []
        for k in 0..<4 {
            let a = Double(bitPattern: LittleEndian.read(UInt64.self, bytes, at: 48 + 16 * k))
            let b = Double(bitPattern: LittleEndian.read(UInt64.self, bytes, at: 56 + 16 * k))
            guard a > 0, b > 0, a.isFinite, b.isFinite else { throw corrupt("prior \(k) is Beta(\(a), \(b))") }
            priors.append(BetaPrior(alpha: a, beta: b))
        }
        func counts(at offset: Int) throws(SearchError) -> EngagementCounts {
            let time = Double(bitPattern: LittleEndian.read(UInt64.self, bytes, at: offset))
            var values = SIMD8<Double>.zero
            for slot in 0..<5 {
                let v = Double(bitPattern: LittleEndian.read(UInt64.self, bytes, at: offset + 8 + 8 * slot))
                guard v >= 0, v.isFinite else { throw corrupt("a count at byte \(offset + 8 + 8 * slot) is \(v)") }
                values[slot] = v
            }
            guard time.isFinite else { throw corrupt("an entry's time at byte \(offset) is \(time)") }
            return EngagementCounts(values: values, time: time)
        }
        var state = State()
        state.latest = latest
        state.priors = EngagementPriors(click: priors[0], save: priors[1], hide: priors[2], purchase: priors[3])
        var offset = F.headerSize
        state.items.reserveCapacity(Int(itemCount))
        for _ in 0..<itemCount {
            let id = VectorID(LittleEndian.read(UInt64.self, bytes, at: offset))
            guard state.items.updateValue(try counts(at: offset + 8), forKey: id) == nil else {
                throw corrupt("item \(id) appears twice")
            }
            offset += F.itemSize
        }
        state.pairs.reserveCapacity(Int(pairCount))
        for _ in 0..<pairCount {
            let key = PairKey(user: LittleEndian.read(UInt64.self, bytes, at: offset),
                              item: LittleEndian.read(UInt64.self, bytes, at: offset + 8))
            guard state.pairs.updateValue(try counts(at: offset + 16), forKey: key) == nil else {
                throw corrupt("pair (user \(key.user), item \(key.item)) appears twice")
            }
            offset += F.pairSize
        }
        var configuration = configuration
        configuration.halfLife = halfLife
        self.init(configuration: configuration, state: state)
    }
}

extension EngagementStore {
    /// Replaces everything this store holds with a snapshot's contents (for a
    /// host that moves engagement between stores it already shares).
    ///
    /// - Throws: as ``init(snapshot:configuration:source:)``, and
    ///   ``SearchError/Code/invalidArgument`` when the snapshot's half-life
    ///   differs from this store's (its counts would decay at another rate);
    ///   nothing is changed when it throws.
    public func replaceContents(withSnapshot bytes: [UInt8], source: String = "snapshot") throws(SearchError) {
        let loaded = try EngagementStore(snapshot: bytes, configuration: configuration, source: source)
        guard loaded.configuration.halfLife == configuration.halfLife else {
            throw SearchError(
                .invalidArgument,
                "engagement snapshot `\(source)` decays with a half-life of \(loaded.configuration.halfLife) s; this store's is \(configuration.halfLife) s")
        }
        let contents = loaded.state.withLock { $0 }
        state.withLock { $0 = contents }
    }
}
