import SearchCore
import StoragePrimitives
import Tensor

/// Which segments make up a persistent index, which of their vectors are
/// still live, and which write-ahead log continues after them.
///
/// The manifest is the index's single point of truth: a new one is written
/// beside the old under a temporary name, flushed, renamed over it and the
/// directory flushed, so a reader (or a restart after a crash) sees either
/// the old generation or the new one, whole.
///
/// **Format, version 1** (file `MANIFEST`, little-endian):
///
/// | size | field |
/// | --- | --- |
/// | 8 | magic `MMSMAN01` |
/// | 4 | format version, 1 |
/// | 8 | generation (increases by one per manifest written) |
/// | 8 | log generation: the write-ahead log `wal-<n>.log` replayed after these segments |
/// | 4 | segment count S |
/// | per segment | name length u16, the file name (UTF-8, no `/`), vector count u64, live-set length u32 in bytes, the live set (bit i of byte i/8 set when vector i is live) |
/// | 4 | CRC-32C of everything before it |
public struct Manifest: Sendable, Hashable {
    /// One segment of the index.
    public struct Segment: Sendable, Hashable {
        /// The segment's file name inside the index directory.
        public var fileName: String
        /// How many vectors the segment holds, live or deleted.
        public var count: Int
        /// Which of them are live.
        public var live: LiveSet

        /// A segment entry.
        public init(fileName: String, count: Int, live: LiveSet) {
            self.fileName = fileName
            self.count = count
            self.live = live
        }
    }

    /// `MMSMAN01`.
    public static let magic: [UInt8] = Array("MMSMAN01".utf8)
    /// The file name inside an index directory.
    public static let fileName = "MANIFEST"

    /// Increases by one with every manifest written.
    public var generation: UInt64
    /// The write-ahead log `wal-<n>.log` replayed after these segments.
    public var logGeneration: UInt64
    /// The segments, oldest first.
    public var segments: [Segment]

    /// A manifest with these contents.
    public init(generation: UInt64, logGeneration: UInt64, segments: [Segment]) {
        self.generation = generation
        self.logGeneration = logGeneration
        self.segments = segments
    }

    /// The encoded manifest.
    public func bytes() -> [UInt8] {
        var out = Self.magic
        LittleEndian.append(UInt32(1), to: &out)
        LittleEndian.append(generation, to: &out)
        LittleEndian.append(logGeneration, to: &out)
        LittleEndian.append(UInt32(segments.count), to: &out)
        for s in segments {
            let name = Array(s.fileName.utf8)
            LittleEndian.append(UInt16(name.count), to: &out)
            out += name
            LittleEndian.append(UInt64(s.count), to: &out)
            LittleEndian.append(UInt32(s.live.bytes.count), to: &out)
            out += s.live.bytes
        }
        LittleEndian.append(CRC32C.checksum(out), to: &out)
        return out
    }

    /// Writes the manifest into `directory` atomically and durably.
    public func write(toDirectory directory: String) throws(SearchError) {
        for s in segments { try Self.checkName(s.fileName) }
        try AtomicFile.replace(directory + "/" + Self.fileName, with: [bytes()])
    }

    /// Reads `directory/MANIFEST`, or nil when there is none (a new index).
    public static func read(fromDirectory directory: String) throws(SearchError) -> Manifest? {
        let path = directory + "/" + fileName
        let mapping: MappedFile
        do {
            mapping = try MappedFile(path: path)
        } catch where error.code == .notFound {
            return nil
        }
        return try decode(mapping.bytes, path: path)
    }

    /// Decodes a manifest, checking everything; `path` names it in errors.
    public static func decode(_ b: UnsafeRawBufferPointer, path: String) throws(SearchError) -> Manifest {
        func corrupt(_ offset: Int, _ what: String) -> SearchError {
            SearchError(.corruptData, "\(path) at offset \(offset): \(what)")
        }
        guard b.count >= 36, b.prefix(8).elementsEqual(magic) else { throw corrupt(0, "not a manifest (no MMSMAN01 magic)") }
        let version = LittleEndian.read(UInt32.self, b, at: 8)
        guard version == 1 else {
            throw SearchError(.unsupportedFormat, "\(path) is manifest version \(version); this build reads version 1")
        }
        let stored = LittleEndian.read(UInt32.self, b, at: b.count - 4)
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: b[0..<(b.count - 4)])) == stored else {
            throw corrupt(b.count - 4, "the manifest fails its checksum")
        }
        var offset = 12
        let generation = LittleEndian.read(UInt64.self, b, at: offset)
        let logGeneration = LittleEndian.read(UInt64.self, b, at: offset + 8)
        let count = Int(LittleEndian.read(UInt32.self, b, at: offset + 16))
        offset += 20
        let end = b.count - 4
        var segments: [Segment] = []
        for i in 0..<count {
            guard offset + 2 <= end else { throw corrupt(offset, "segment \(i) is cut off") }
            let nameLength = Int(LittleEndian.read(UInt16.self, b, at: offset))
            offset += 2
            guard offset + nameLength + 12 <= end else { throw corrupt(offset, "segment \(i) is cut off") }
            let name = String(decoding: b[offset..<(offset + nameLength)], as: UTF8.self)
            offset += nameLength
            let vectors = LittleEndian.read(UInt64.self, b, at: offset)
            let liveLength = Int(LittleEndian.read(UInt32.self, b, at: offset + 8))
            offset += 12
            guard vectors <= UInt64(Int32.max), liveLength == (Int(vectors) + 7) / 8, offset + liveLength <= end else {
                throw corrupt(offset, "segment \(i) (\(name)): a live set of \(liveLength) bytes for \(vectors) vectors")
            }
            do throws(SearchError) { try checkName(name) } catch { throw corrupt(offset, error.message) }
            segments.append(
                Segment(fileName: name, count: Int(vectors), live: LiveSet(bytes: Array(b[offset..<(offset + liveLength)]), count: Int(vectors))))
            offset += liveLength
        }
        guard offset == end else { throw corrupt(offset, "\(end - offset) bytes follow the last segment") }
        return Manifest(generation: generation, logGeneration: logGeneration, segments: segments)
    }

    static func checkName(_ name: String) throws(SearchError) {
        guard !name.isEmpty, name != ".", name != "..", !name.contains("/"), name.utf8.count <= 255 else {
            throw SearchError(.invalidArgument, "\"\(name)\" is not a plain file name for a segment")
        }
    }
}

/// A fixed-size set of live positions, one bit each.
public struct LiveSet: Sendable, Hashable {
    /// Bit i of byte i/8 is set when position i is live.
    public private(set) var bytes: [UInt8]
    /// The number of positions.
    public let count: Int

    /// All `count` positions live.
    public init(allLive count: Int) {
        self.count = count
        bytes = [UInt8](repeating: 0xFF, count: (count + 7) / 8)
        if count % 8 != 0 { bytes[bytes.count - 1] = UInt8((1 << (count % 8)) - 1) }
    }

    init(bytes: [UInt8], count: Int) {
        self.bytes = bytes
        self.count = count
        // Bits past the end are ignored, and cleared so equal sets compare equal.
        if count % 8 != 0, !self.bytes.isEmpty { self.bytes[self.bytes.count - 1] &= UInt8((1 << (count % 8)) - 1) }
    }

    /// Whether `position` is live. Precondition: `0 <= position < count`.
    @inlinable
    public func isLive(_ position: Int) -> Bool {
        precondition(position >= 0 && position < count, "position \(position) outside a live set of \(count)")
        return bytes[position >> 3] & (1 << UInt8(position & 7)) != 0
    }

    /// Marks a position deleted.
    public mutating func remove(_ position: Int) {
        precondition(position >= 0 && position < count, "position \(position) outside a live set of \(count)")
        bytes[position >> 3] &= ~(1 << UInt8(position & 7))
    }

    /// How many positions are live.
    public var liveCount: Int { bytes.reduce(0) { $0 + $1.nonzeroBitCount } }
}
