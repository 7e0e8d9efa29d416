import SearchCore
import Synchronization
import Tensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An append-only log of opaque records, made durable by ``commit()``.
///
/// **Format, version 1** (little-endian):
///
/// | offset | size | field |
/// | --- | --- | --- |
/// | 0 | 8 | magic `MMSWAL01` |
/// | 8 | 4 | format version, 1 |
/// | 12 | 4 | reserved, 0 |
/// | 16 | … | records |
///
/// Each record is `length` u32, `checksum` u32 (CRC-32C of the four length
/// bytes followed by the payload), then `length` payload bytes.
///
/// **Durability.** ``append(_:)`` buffers; ``commit()`` writes what is
/// buffered and `fsync`s before it returns, so what a commit acknowledged
/// survives `kill -9` and power loss. Several appends per commit make a group
/// commit (and are all-or-nothing only to the extent that a torn tail drops
/// whole records; callers wanting atomic batches append one record per batch).
///
/// **Recovery** (``replay(path:)``): records are read in order. A final record
/// that is incomplete or fails its checksum is a torn write from a commit that
/// never returned: it is dropped and the file cut back. Damage anywhere else
/// — a bad record followed by a valid one — is ``SearchError/Code/corruptData``
/// naming the file and offset, and nothing is cut.
public final class WriteAheadLog: Sendable {
    /// `MMSWAL01`.
    public static let magic: [UInt8] = Array("MMSWAL01".utf8)
    static let headerSize = 16
    /// The largest record accepted (and believed on replay): 1 GiB.
    public static let maximumRecordLength = 1 << 30

    /// The log's path.
    public let path: String
    private struct State {
        var fd: Int32
        var pending: [UInt8] = []
        var size: Int
        var closed = false
    }
    private let state: Mutex<State>

    /// Opens (creating if absent) the log at `path` for appending after its
    /// last valid record, recovering a torn tail first.
    ///
    /// - Returns: the log and the payloads already in it, in order.
    public static func open(path: String) throws(SearchError) -> (log: WriteAheadLog, records: [[UInt8]]) {
        var records: [[UInt8]] = []
        var validLength = headerSize
        if access(path, F_OK) == 0 {
            (records, validLength) = try replay(path: path)
        } else {
            var header = magic
            LittleEndian.append(UInt32(1), to: &header)
            LittleEndian.append(UInt32(0), to: &header)
            try FileSystem.replaceAtomically(path, with: [header])
        }
        let fd = Int32(FileSystem.retrying { Int(openFile(path, O_WRONLY | O_CLOEXEC)) })
        guard fd >= 0 else { throw FileSystem.error("cannot open", path) }
        // Cut a torn tail so new records follow the last good one.
        guard ftruncate(fd, off_t(validLength)) == 0, FileSystem.retrying({ Int(fsync(fd)) }) == 0 else {
            _ = close(fd)
            throw FileSystem.error("cannot repair", path)
        }
        return (WriteAheadLog(path: path, fd: fd, size: validLength), records)
    }

    private init(path: String, fd: Int32, size: Int) {
        self.path = path
        state = Mutex(State(fd: fd, size: size))
    }

    deinit {
        state.withLock { s in
            if !s.closed { _ = close(s.fd) }
        }
    }

    /// The log's size in bytes once everything buffered is committed.
    public var size: Int { state.withLock { $0.size + $0.pending.count } }

    /// Buffers one record; durable after the next ``commit()``.
    public func append(_ payload: [UInt8]) throws(SearchError) {
        guard payload.count <= Self.maximumRecordLength else {
            throw SearchError(.resourceLimit, "a log record of \(payload.count) bytes exceeds \(Self.maximumRecordLength)")
        }
        var record: [UInt8] = []
        record.reserveCapacity(8 + payload.count)
        LittleEndian.append(UInt32(payload.count), to: &record)
        var crc = CRC32C()
        crc.update(Array(record[0..<4]))
        crc.update(payload)
        LittleEndian.append(crc.value, to: &record)
        record += payload
        state.withLock { $0.pending += record }
    }

    /// Writes everything appended and flushes it to disk; returns only when it is durable.
    public func commit() throws(SearchError) {
        let result: SearchError? = state.withLock { s in
            guard !s.closed else { return SearchError(.invalidArgument, "\(path) is closed") }
            var written = 0
            let bytes = s.pending
            while written < bytes.count {
                let n = bytes.withUnsafeBytes { raw in
                    FileSystem.retrying { pwrite(s.fd, raw.baseAddress! + written, raw.count - written, off_t(s.size + written)) }
                }
                guard n > 0 else { return FileSystem.error("cannot append to", path) }
                written += n
            }
            guard FileSystem.retrying({ Int(flushData(s.fd)) }) == 0 else {
                return FileSystem.error("cannot flush", path)
            }
            s.size += bytes.count
            s.pending.removeAll(keepingCapacity: true)
            return nil
        }
        if let result { throw result }
    }

    /// Reads every record of a log, dropping a torn final record.
    ///
    /// - Returns: the payloads and the length of the valid prefix of the file.
    public static func replay(path: String) throws(SearchError) -> (records: [[UInt8]], validLength: Int) {
        let mapping = try FileMapping(path: path)
        return try replay(mapping.bytes, path: path)
    }

    /// Replays a log image in memory; `path` only names it in error messages.
    public static func replay(_ b: UnsafeRawBufferPointer, path: String) throws(SearchError) -> (records: [[UInt8]], validLength: Int) {
        guard b.count >= headerSize, b.prefix(8).elementsEqual(magic) else {
            throw SearchError(.corruptData, "\(path) at offset 0: not a write-ahead log (no MMSWAL01 header)")
        }
        let version = LittleEndian.read(UInt32.self, b, at: 8)
        guard version == 1 else {
            throw SearchError(.unsupportedFormat, "\(path) is log format version \(version); this build reads version 1")
        }
        var records: [[UInt8]] = []
        var offset = headerSize
        while offset < b.count {
            if let end = validRecordEnd(b, at: offset) {
                records.append(Array(b[(offset + 8)..<end]))
                offset = end
                continue
            }
            // A bad record: torn tail if nothing valid follows, corruption otherwise.
            var probe = offset + 1
            while probe + 8 <= b.count {
                if validRecordEnd(b, at: probe) != nil {
                    throw SearchError(
                        .corruptData,
                        "\(path) at offset \(offset): a damaged record is followed by valid ones at offset \(probe); the log is corrupt, not torn")
                }
                probe += 1
            }
            break
        }
        return (records, offset)
    }

    /// The end offset of a complete record with a good checksum at `offset`, or nil.
    private static func validRecordEnd(_ b: UnsafeRawBufferPointer, at offset: Int) -> Int? {
        guard offset + 8 <= b.count else { return nil }
        let length = Int(LittleEndian.read(UInt32.self, b, at: offset))
        guard length <= maximumRecordLength, offset + 8 + length <= b.count else { return nil }
        var crc = CRC32C()
        crc.update(UnsafeRawBufferPointer(rebasing: b[offset..<(offset + 4)]))
        crc.update(UnsafeRawBufferPointer(rebasing: b[(offset + 8)..<(offset + 8 + length)]))
        return crc.value == LittleEndian.read(UInt32.self, b, at: offset + 4) ? offset + 8 + length : nil
    }
}

/// The C `open`, from a scope where `WriteAheadLog.open` does not shadow it.
@inline(__always)
private func openFile(_ path: String, _ flags: Int32) -> Int32 {
    open(path, flags)
}

/// Flushes a file's data (and the metadata needed to read it back).
@inline(__always)
private func flushData(_ fd: Int32) -> Int32 {
    #if os(Linux)
    fdatasync(fd)
    #else
    fsync(fd)
    #endif
}
